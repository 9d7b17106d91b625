from django.conf import settings
from django.db import models


class EventCount(models.Model):
    """How many timeline events of one kind happened in one UTC hour, per campaign and person.

    A read model of the timeline (which stays the source of truth): a PostgreSQL trigger on
    `leads_leadevent` adds every inserted event here in the same transaction, whoever inserted it
    (a service, a bulk import, the sweep's set-based INSERT), so pages sum a few rows per hour shown
    instead of reading the timeline. `manage.py rebuild_counts` recomputes the table from the
    timeline with the same SQL (`handoff.counts`).

    Hours are UTC so that any local day, week or month (in every zone with whole-hour offsets) is a
    whole number of rows.
    """

    hour = models.DateTimeField(help_text="Start of the UTC hour the events happened in.")
    kind = models.CharField(max_length=20, help_text="The timeline event kind (LeadEvent.Kind).")
    subgroup = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the kind is split by: deadline kind for breaches and warnings, reason for returns, "
        "stage for deal moves, activity kind, capture source.",
    )
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        help_text="Whom the event is about: the rep or deadline owner named in it, else its actor.",
    )
    value = models.BigIntegerField(default=0)
    amount = models.DecimalField(
        max_digits=18, decimal_places=2, default=0, help_text="Money the events carry: converted or won value."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "kind", "subgroup", "campaign", "user"],
                name="event_count_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["kind", "hour"], name="event_count_kind_hour_idx"),
            # A campaign's all-time figures (its results page): its rows of one kind, whatever the hours.
            models.Index(fields=["campaign", "kind"], name="event_count_campaign_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subgroup} {self.hour:%Y-%m-%d %H:00} campaign {self.campaign_id}: {self.value}"
