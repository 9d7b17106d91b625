"""The dashboard's "escalations caused" reads the period's breached deadlines by due time from an index of
their own (a breach is never undone and only a breached deadline has escalation steps), not every deadline
of the sales kinds."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0005_storm_fewer_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("breached_at__isnull", False)),
                fields=["due_at"],
                include=("id", "kind", "owner", "campaign"),
                name="deadline_breached_due_idx",
            ),
        ),
    ]
