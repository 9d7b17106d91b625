from django.conf import settings
from django.db import models


class DeadlineOutcome(models.Model):
    """How the deadlines decided in one UTC hour ended, per deadline kind, campaign and owner.

    A read model of `Deadline` (which stays the source of truth), counted by when each deadline was
    decided (`Deadline.decided_at`: when it was met if by its due time, else its due time): on time
    (by a person), late (met late, still open past its due time, or cancelled after it), of the late
    ones those the sweep recorded, and what an escalation met (by the due time: in neither figure;
    after it: late too). A PostgreSQL trigger on `handoff_deadline` takes every inserted, updated or
    deleted deadline's old contribution out and puts its new one in, in the writer's transaction,
    whoever wrote it (a service, the set-based sweep, a bulk update). A running deadline counts as late
    in the hour of its due time until it is met, paused or cancelled, so only hours that have passed
    may be read from here (`reporting.outcomes`). `manage.py rebuild_counts` recomputes the table.
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
    by_escalation = models.BigIntegerField(
        db_default=0,
        default=0,
        help_text="Met by an escalation by the due time: neither on time nor late (nobody's action).",
    )
    late_by_escalation = models.BigIntegerField(
        db_default=0, default=0, help_text="Late ones an escalation met after the due time (counted in late too)."
    )

    class Meta:
        db_table = "handoff_deadlineoutcome"  # its table from before it left handoff/
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "kind", "campaign", "owner"], name="deadline_outcome_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hour:%Y-%m-%d %H:00} campaign {self.campaign_id}: {self.on_time}/{self.late}"


class OutcomeSums(models.Model):
    """`DeadlineOutcome` summed over a span of local days and one side of it: per owner (`per` "owner",
    `campaign` empty) or per campaign (`per` "campaign", `owner` empty), never the pair. Keyed by the
    writer's slot as `EventCount` is: every hand-off of any campaign adds to its span's row of the
    queue's claims, which would otherwise be one row they all wait on. The span is the subclass's."""

    per = models.CharField(max_length=8, help_text='"owner" or "campaign": the side of the hours summed.')
    kind = models.CharField(max_length=20)
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, null=True, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+")
    on_time = models.BigIntegerField(default=0)
    late = models.BigIntegerField(default=0)
    recorded = models.BigIntegerField(default=0)
    by_escalation = models.BigIntegerField(default=0)
    late_by_escalation = models.BigIntegerField(default=0)
    slot = models.SmallIntegerField(
        default=0, db_default=0, help_text="Which writer's share of the sums this row is: read the sum over slots."
    )

    class Meta:
        abstract = True


class DeadlineOutcomeMonth(OutcomeSums):
    """`DeadlineOutcome` summed per month of the site's zone and one side of it. A quarter of hourly rows
    holds every (hour, owner, campaign) that decided something, ~160,000 rows at a million leads; its
    months' sides a few thousand. The dashboard reads the months that have wholly passed from here and
    the rest of its period from the weeks and hours (`reporting.outcomes.outcome_rows`).

    Kept by a trigger on `handoff_deadlineoutcome` itself (whoever writes the hours: the deadlines'
    trigger, a rebuild, `seed_scale`'s chunks through `outcome_months_fill`), with the site's zone
    written in: `rebuild_counts` installs it again after a change of TIME_ZONE and recounts the months.
    """

    month = models.DateField(help_text="The first day of the month, in the site's time zone.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "per", "kind", "campaign", "owner", "slot"],
                name="deadline_outcome_month_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m} per {self.per}: {self.on_time}/{self.late}"


class DeadlineOutcomeWeek(OutcomeSums):
    """`DeadlineOutcome` summed per week of the month (its days 1–7, 8–14, 15–21, 22–28 and 29 to its
    end, local) and one side of it, as `DeadlineOutcomeMonth` is per month: a period's hours at its edges
    (a custom range from the 10th: the month less its first nine days) read as whole weeks and at most a
    few days of hours either side of each (`reporting.outcomes.outcome_rows`). Kept by a trigger on
    `handoff_deadlineoutcome`, as the months are."""

    week = models.DateField(help_text="The first day of the week of the month (1, 8, 15, 22 or 29), local.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "per", "kind", "campaign", "owner", "slot"],
                name="deadline_outcome_week_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} week of {self.week:%Y-%m-%d} per {self.per}: {self.on_time}/{self.late}"


class AcceptanceDay(models.Model):
    """Marketing's hand-offs per local day (of when they were handed off) and campaign, each counted with
    its claim clock: what the dashboard's acceptance reads for the days that have passed.

    A read model of `Handoff` joined to its claim `Deadline` (both stay the source of truth; a hand-off
    with no claim clock counts nowhere, as in the dashboard's join): handed off, claim window closed by
    the clock's end (met or cancelled), claimed by a person, of those returned to marketing, and given
    to someone by an escalation. A claim window also closes when its due time passes, which depends on
    the time of reading: those clocks are still running, few (the queue's overdue claims), and read live
    (`reporting.dashboard.acceptance_rows`). Kept by statement triggers on both tables
    (`reporting.acceptance`): a statement changes one of them, so its rows' old contributions, joined
    to the other table as it stands, come out and their new ones go in. Keyed by the writer's slot as
    `EventCount` is (every hand-off of a campaign adds to its day's row). `rebuild_counts` recomputes it.
    """

    day = models.DateField(help_text="The local day (settings.TIME_ZONE) the lead was handed off.")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, null=True, related_name="+")
    handed_off = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0, help_text="Claim clock met or cancelled (not: its due time passed).")
    claimed = models.BigIntegerField(default=0, help_text="Claimed by a person (not by an escalation).")
    returned = models.BigIntegerField(default=0, help_text="Claimed by a person, then returned to marketing.")
    by_escalation = models.BigIntegerField(default=0, help_text="Claim clock met by an escalation.")
    slot = models.SmallIntegerField(
        default=0, db_default=0, help_text="Which writer's share of the sums this row is: read the sum over slots."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "campaign", "slot"], name="acceptance_day_key", nulls_distinct=False)
        ]

    def __str__(self) -> str:
        return f"{self.day} campaign {self.campaign_id}: {self.handed_off} handed off"


class EscalationDay(models.Model):
    """Escalation steps done for breached sales deadlines, per local day of the deadline's due time and
    the deadline's kind, owner and campaign: what the dashboard's "escalations caused" reads
    (`reporting.dashboard.escalations_caused`; the drill-down lists the steps themselves).

    A read model of `Escalation` joined to its `Deadline` (both stay the source of truth). Kept by
    statement triggers on both tables (`reporting.escalations`); keyed by the writer's slot as
    `EventCount` is. `rebuild_counts` recomputes it.
    """

    day = models.DateField(help_text="The local day (settings.TIME_ZONE) the breached deadline was due.")
    kind = models.CharField(max_length=20)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.DO_NOTHING, null=True, related_name="+")
    escalations = models.BigIntegerField(default=0)
    slot = models.SmallIntegerField(
        default=0, db_default=0, help_text="Which writer's share of the sums this row is: read the sum over slots."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "owner", "campaign", "slot"], name="escalation_day_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} owner {self.owner_id} campaign {self.campaign_id}: {self.escalations}"


class MetTimeDay(models.Model):
    """How many deadlines people met took how long, in business time: per local day they were decided
    (`Deadline.decided_at`), kind and bucket of business seconds, the buckets about 8.7 % wide
    (`reporting.met_times.BUCKET`). What the dashboard's median and 90th percentile read, exactly,
    without sorting a period's every met deadline (173,000 for a quarter at a million leads): the sums
    say which bucket holds the rank asked for, and only that bucket's deadlines are sorted
    (`reporting.met_times.met_time_percentiles`).

    A read model of `Deadline` (the source of truth): a deadline counts once its business time is set
    (`business_seconds`) unless an escalation met it (nobody's time). Kept by statement triggers on the
    deadlines (`reporting.met_times`); keyed by the writer's slot as `EventCount` is (every claim of a
    day adds to its bucket's row). `rebuild_counts` recomputes it.
    """

    day = models.DateField(help_text="The local day (settings.TIME_ZONE) the deadline was decided.")
    kind = models.CharField(max_length=20)
    bucket = models.SmallIntegerField(help_text="floor(12 × ln(business seconds + 1)): 0 is no time at all.")
    deadlines = models.BigIntegerField(default=0)
    slot = models.SmallIntegerField(
        default=0, db_default=0, help_text="Which writer's share of the sums this row is: read the sum over slots."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "bucket", "slot"], name="met_time_day_key"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} bucket {self.bucket}: {self.deadlines}"


class MetTimeMonth(models.Model):
    """`MetTimeDay` summed per local month: what the percentiles of a period read for its months that
    lie wholly inside it (a quarter is ~11,000 daily rows at a million leads, its months ~250 rows each),
    the days at its edges from `MetTimeDay` (`reporting.met_times`). Kept by a trigger on
    `reporting_mettimeday` itself (whoever writes the days: the deadlines' triggers, a rebuild,
    `seed_scale`), keyed by the daily row's slot, so concurrent writers never share a row here either."""

    month = models.DateField(help_text="The first day of the local month (as MetTimeDay.day).")
    kind = models.CharField(max_length=20)
    bucket = models.SmallIntegerField()
    deadlines = models.BigIntegerField(default=0)
    slot = models.SmallIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "kind", "bucket", "slot"], name="met_time_month_key"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} bucket {self.bucket}: {self.deadlines}"
