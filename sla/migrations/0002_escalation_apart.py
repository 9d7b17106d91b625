"""Escalation is its own actor: a claim clock an escalation met says so, a pass says who opened it, and a
claim missed in the queue stays the queue's. The backfill reads the timeline: an escalation's assignment is
an "assigned" event with no actor whose note starts "Reassigned by escalation", at the moment the claim was
met; a requeue's new pass opened at its "requeued" event (no actor: an escalation)."""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

BACKFILL = """
UPDATE handoff_deadline d SET met_by_escalation = true
 WHERE d.kind = 'claim' AND d.met_at IS NOT NULL AND EXISTS (
       SELECT 1 FROM leads_leadevent e
        WHERE e.lead_id = d.lead_id AND e.kind = 'assigned' AND e.actor_id IS NULL AND e.created_at = d.met_at
          AND e.note LIKE 'Reassigned by escalation%');
UPDATE handoff_deadline SET owner_id = NULL
 WHERE kind = 'claim' AND owner_id IS NOT NULL AND met_at IS NOT NULL AND (met_at > due_at OR met_by_escalation);
UPDATE handoff_handoff h SET source = CASE WHEN e.actor_id IS NULL THEN 'escalation' ELSE 'requeue' END
  FROM leads_leadevent e
 WHERE e.lead_id = h.lead_id AND e.kind = 'requeued' AND e.created_at = h.handed_off_at;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("leads", "0023_lead_country"),
        ("sla", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="deadline",
            name="deadline_decided_idx",
        ),
        migrations.RemoveIndex(
            model_name="deadline",
            name="deadline_met_seconds_idx",
        ),
        migrations.AddField(
            model_name="deadline",
            name="met_by_escalation",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Met by an escalation (a claim: it gave the lead to someone), not by a person; the dashboard shows it beside people's figures, never inside them.",
            ),
        ),
        migrations.AddField(
            model_name="handoff",
            name="source",
            field=models.CharField(
                choices=[
                    ("hand_off", "Handed off by marketing"),
                    ("requeue", "Put back in the queue by a person"),
                    ("escalation", "Put back in the queue by an escalation"),
                ],
                db_default="hand_off",
                default="hand_off",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                help_text="Who must act: empty while the lead waits in the queue for any rep. A claim met by its due time by a person names who claimed the lead; one missed in the queue stays the queue's, whoever claims or is given the lead afterwards.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deadlines",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                models.F("kind"),
                django.db.models.functions.comparison.Least("met_at", "due_at"),
                include=(
                    "owner",
                    "campaign",
                    "met_at",
                    "due_at",
                    "breached_at",
                    "cancelled_at",
                    "paused_at",
                    "business_seconds",
                    "met_by_escalation",
                ),
                name="deadline_decided_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                models.F("kind"),
                django.db.models.functions.comparison.Least("met_at", "due_at"),
                condition=models.Q(("business_seconds__isnull", False)),
                include=("business_seconds", "owner", "campaign", "met_by_escalation"),
                name="deadline_met_seconds_idx",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
