"""`MetTimeMonth`, the met deadlines' business times per month, kind and bucket (issue 25); 0013 fills it
and installs its trigger (in a migration of its own: the table's unique key, which the fill's ON CONFLICT
names, is made at the end of this one)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0011_met_time_days_fill"),
    ]

    operations = [
        migrations.CreateModel(
            name="MetTimeMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(help_text="The first day of the local month (as MetTimeDay.day).")),
                ("kind", models.CharField(max_length=20)),
                ("bucket", models.SmallIntegerField()),
                ("deadlines", models.BigIntegerField(default=0)),
                ("slot", models.SmallIntegerField(db_default=0, default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("month", "kind", "bucket", "slot"), name="met_time_month_key")
                ],
            },
        ),
    ]
