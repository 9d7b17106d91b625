import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Handoffs written before the column existed take their lead's campaign (a lead keeps its campaign).
BACKFILL = """
UPDATE handoff_handoff h SET campaign_id = l.campaign_id FROM leads_lead l WHERE l.id = h.lead_id
"""


class Migration(migrations.Migration):
    """A handoff carries its lead's campaign, as its deadlines do, so the dashboard reads a period's
    returned handoffs per campaign from one covering index instead of joining a million leads."""

    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("handoff", "0018_event_counts_per_local_day"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="handoff",
            name="handoff_returned_idx",
        ),
        migrations.AddField(
            model_name="handoff",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The lead's campaign, copied so the dashboard's acceptance needs no join (read by handoff_returned_idx).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaigns.campaign",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(
                condition=models.Q(("outcome", "returned")),
                fields=["handed_off_at"],
                include=("campaign",),
                name="handoff_returned_idx",
            ),
        ),
    ]
