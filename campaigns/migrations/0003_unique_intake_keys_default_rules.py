import secrets

from django.db import migrations, models

import campaigns.models

# What a new installation scores leads by; marketers edit these in Handoff.
DEFAULT_RULES = [
    ("field_present", "phone", 10),
    ("field_present", "company", 10),
    ("field_present", "job_title", 5),
    ("title_keyword", "head", 15),
    ("title_keyword", "director", 20),
    ("title_keyword", "vp", 20),
    ("title_keyword", "chief", 25),
    ("company_size", "50", 10),
    ("company_size", "500", 15),
    ("channel", "event", 10),
    ("channel", "referral", 20),
    ("repeat_capture", "2", 15),
]


def forwards(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.all():
        campaign.intake_key = secrets.token_urlsafe(9)
        campaign.save(update_fields=["intake_key"])
    ScoringRule = apps.get_model("campaigns", "ScoringRule")
    if not ScoringRule.objects.exists():
        ScoringRule.objects.bulk_create(
            ScoringRule(kind=kind, value=value, points=points) for kind, value, points in DEFAULT_RULES
        )
    QualificationPolicy = apps.get_model("campaigns", "QualificationPolicy")
    if not QualificationPolicy.objects.exists():
        QualificationPolicy.objects.create(mql_threshold=60)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_capture_scoring_intake")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="campaign",
            name="intake_key",
            field=models.CharField(default=campaigns.models.new_intake_key, editable=False, max_length=32, unique=True),
        ),
    ]
