"""The storm's writes touch fewer indexes: the plain indexes of foreign keys that a unique constraint or
another index already leads with go (handoff_deadline: handoff, lead, owner; handoff_escalation:
deadline). Only the indexes are dropped: the foreign keys stay as they are, not checked again."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The plain indexes Django named for these foreign keys (as created by sla 0001).
DROPPED = {
    "handoff_deadline_handoff_id_f39c44ae": "handoff_deadline (handoff_id)",
    "handoff_deadline_lead_id_69d704ac": "handoff_deadline (lead_id)",
    "handoff_deadline_owner_id_323294b5": "handoff_deadline (owner_id)",
    "handoff_escalation_deadline_id_84e05f6a": "handoff_escalation (deadline_id)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0027_count_slots"),
        ("sla", "0004_draft_event_replayed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"', reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON {on}'
                )
                for name, on in DROPPED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="deadline",
                    name="handoff",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deadlines",
                        to="sla.handoff",
                    ),
                ),
                migrations.AlterField(
                    model_name="deadline",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deadlines",
                        to="leads.lead",
                    ),
                ),
                migrations.AlterField(
                    model_name="deadline",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="Who must act: empty while the lead waits in the queue for any rep. A claim met by its due time by a person names who claimed the lead; one missed in the queue stays the queue's, whoever claims or is given the lead afterwards.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deadlines",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="escalation",
                    name="deadline",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="escalations",
                        to="sla.deadline",
                    ),
                ),
            ],
        ),
    ]
