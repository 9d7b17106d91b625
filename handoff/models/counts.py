from django.conf import settings
from django.db import models


class EventCount(models.Model):
    """How many timeline events of one kind happened on one day, per campaign and person.

    A read model of the timeline (which stays the source of truth): a PostgreSQL trigger on
    `leads_leadevent` adds every inserted event here in the same transaction, whoever inserted it
    (a service, a bulk import, the sweep's set-based INSERT), so pages sum a few rows per hour shown
    instead of reading the timeline. `manage.py rebuild_counts` recomputes the table from the
    timeline with the same SQL (`handoff.counts`).

    Days are calendar days in the site's zone (settings.TIME_ZONE, whoever looks), like every period,
    week and month the pages show: a month is about 30 rows per campaign, kind and person, where UTC
    hours made it 720. The trigger has the zone written in; `rebuild_counts` after changing TIME_ZONE.
    """

    day = models.DateField(help_text="The day the events happened on, in the site's time zone (TIME_ZONE).")
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
                fields=["day", "kind", "subgroup", "campaign", "user"],
                name="event_count_day_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["kind", "day"], name="event_count_kind_day_idx"),
            # A campaign's all-time figures (its results page): its rows of one kind, whatever the hours.
            models.Index(fields=["campaign", "kind"], name="event_count_campaign_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subgroup} {self.day:%Y-%m-%d} campaign {self.campaign_id}: {self.value}"


class DeadlineOutcome(models.Model):
    """How the deadlines decided in one UTC hour ended, per deadline kind, campaign and owner.

    A read model of `Deadline` (which stays the source of truth), counted by when each deadline was
    decided (`Deadline.decided_at`: when it was met if by its due time, else its due time): on time,
    late (met late, still open past its due time, or cancelled after it), and of the late ones those
    the sweep recorded. A PostgreSQL trigger on `handoff_deadline` takes every inserted, updated or
    deleted deadline's old contribution out and puts its new one in, in the writer's transaction,
    whoever wrote it (a service, the set-based sweep, a bulk update). A running deadline counts as late
    in the hour of its due time until it is met, paused or cancelled, so only hours that have passed
    may be read from here (`handoff.outcomes`). `manage.py rebuild_counts` recomputes the table.
    """

    hour = models.DateTimeField(help_text="Start of the UTC hour the deadlines were decided in.")
    kind = models.CharField(max_length=20, help_text="The deadline kind (Deadline.Kind).")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, null=True, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        help_text="Who held the deadline; empty for a claim left in the queue.",
    )
    on_time = models.BigIntegerField(default=0)
    late = models.BigIntegerField(default=0)
    recorded = models.BigIntegerField(default=0, help_text="Late ones whose breach the sweep recorded.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "kind", "campaign", "owner"], name="deadline_outcome_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hour:%Y-%m-%d %H:00} campaign {self.campaign_id}: {self.on_time}/{self.late}"
