"""The dashboard's breach detection delay (median, p99, worst of breached_at - due_at over the last days)
read from `deadline_breached_idx` alone: the index carries the due time and the id it counts, so the
query no longer visits a heap page per breach (issue 25)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0006_deadline_breached_due"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="deadline",
            name="deadline_breached_idx",
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("breached_at__isnull", False)),
                fields=["breached_at"],
                include=("due_at", "id"),
                name="deadline_breached_idx",
            ),
        ),
    ]
