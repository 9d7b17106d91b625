import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Deals written before the column existed take their lead's campaign (a lead keeps its campaign).
BACKFILL = "UPDATE leads_deal d SET campaign_id = l.campaign_id FROM leads_lead l WHERE l.id = d.lead_id"


class Migration(migrations.Migration):
    """A deal carries its lead's campaign, as handoffs and deadlines do, so the dashboard reads a period's
    won deals per campaign from one covering index instead of joining a million leads."""

    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("leads", "0018_campaign_mqls_per_day"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deal",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The lead's campaign, copied so the dashboard's won deals need no join (read by deal_won_idx).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaigns.campaign",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                condition=models.Q(("stage", "won")),
                fields=["closed_at"],
                include=("campaign", "owner", "value"),
                name="deal_won_idx",
            ),
        ),
    ]
