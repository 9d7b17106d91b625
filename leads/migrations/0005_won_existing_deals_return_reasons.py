from django.db import migrations
from django.db.models import F

REASONS = [
    "Not ready to buy",
    "Bad contact data",
    "Duplicate",
    "No budget",
    "Wrong persona",
    "Competitor",
    "Other",
]


def forwards(apps, schema_editor):
    # Before deals had stages, converting a lead closed the sale: those deals were won.
    Deal = apps.get_model("leads", "Deal")
    Deal.objects.filter(stage="qualified", closed_at__isnull=True).update(stage="won", closed_at=F("created_at"))
    ReturnReason = apps.get_model("leads", "ReturnReason")
    for position, label in enumerate(REASONS):
        ReturnReason.objects.get_or_create(label=label, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_sales_in_depth")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
