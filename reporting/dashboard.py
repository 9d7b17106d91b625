"""The managers' SLA dashboard: what each side committed to and did in a period, as plain data.

Every figure is an SQL aggregate over a range bounded by the period (never the whole history), and
the number of queries does not depend on the number of leads, campaigns or reps:

- counts of timeline events come from `EventCount` (per local day of the site's zone, as periods
  and weeks are), summed over the period's days; MQLs from `CampaignMonthMqls` (a lead once per
  month of the site's zone, on the first day it was qualified in that month), the one count of MQLs
  the campaign page and the monthly target check read too;
- deadline figures count the deadlines *decided* in the period: a deadline is decided when it is met
  by its due time (counted then), or at its due time otherwise (missed, whether met late, still open,
  or not yet recorded by the sweep). A deadline cancelled before its due time, or paused on hold, was
  never decided. They are summed from `DeadlineOutcome` (per UTC hour, `reporting.outcomes`) for the
  hours that have passed, and counted from the deadlines (`deadline_decided_idx`) for the hour still
  running;
- business-time percentiles sort `Deadline.business_seconds` of the period's met deadlines
  (`deadline_met_seconds_idx`), set once when the deadline is met;
- acceptance comes from marketing's hand-offs of the period, counting only those whose claim window
  has closed (claimed, or past the claim deadline): per local day from `AcceptanceDay`
  (`reporting.acceptance`), the windows closed by time from the running overdue claims;
- people's actions and the escalation's are kept apart: a claim an escalation made (it gave the lead
  to someone) is never inside people's on-time figures, times or acceptance, but shown beside them; a
  claim deadline missed in the queue is the queue's, whoever later claims or is given the lead.

Every figure that links to a list is registered in `FIGURES` (its list and, for a headline number, its
total), so a number and the leads behind it come from one definition.

Sales' figures follow every filter; marketing's (MQLs, acceptance, returns, follow-ups) and the funnel
follow the campaign and channel filters only: a team or rep does not own a campaign's leads.
"""

import datetime
import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote_plus, urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from appeals.models import Appeal
from appeals.queries import excused_deadlines
from campaigns.models import Campaign
from campaigns.queries import mql_qualifications, mqls_by_campaign
from enforcement.health import breach_detection_delay, sweep_status
from leads.counts import counts_grouped
from leads.models import Deal, LeadEvent, RepProfile, ReturnReason, SalesTeam
from leads.targets import add_months, days_in_month, month_start
from people.roles import Role
from reporting.met_times import met_time_percentiles
from reporting.models import AcceptanceDay, DeadlineOutcome, DeadlineOutcomeMonth, DeadlineOutcomeWeek, EscalationDay
from reporting.outcomes import BY_ESCALATION, LATE, ON_TIME, outcome_rows
from sla.models import Deadline, Escalation, Handoff, SlaPolicy

logger = logging.getLogger(__name__)

K = Deadline.Kind
E = LeadEvent.Kind

# The clocks whose figures are shown as recorded and as ruled: (drill-down prefix, title, kind).
_RULED = (
    ("claims", "Late claims", K.CLAIM),
    ("first_contacts", "Late first contacts", K.FIRST_CONTACT),
    ("follow_ups", "Late returned-lead follow-ups", K.FOLLOW_UP),
)
# Weeks shown in the trends: the last quarter, this week included.
TREND_WEEKS = 13
# The live part lists this many rows per group and counts at most LIVE_CAP (then says "more than").
LIVE_ROWS = 10
LIVE_CAP = 999


# --- Rates --------------------------------------------------------------------------------------
def rate(part: int | float | Decimal, whole: int | float | Decimal) -> float | None:
    """`part` of `whole` in percent with one decimal; None when `whole` is 0. A rate below 100 % never
    shows as 100 (5,002 of 5,003 is 99.9 %), nor one above 0 as 0: rounding must not hide a miss."""
    if not whole:
        return None
    value = round(100 * float(part) / float(whole), 1)
    if part < whole and value >= 100:
        return 99.9
    if part > 0 and value <= 0:
        return 0.1
    return value


# --- Periods and filters ------------------------------------------------------------------------
PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "custom": "Custom range",
}


def _midnight(day: datetime.date) -> datetime.datetime:
    """Local midnight in the site's zone: periods mean the same for every reader, like targets."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """Local days `first_day`..`last_day` as the half-open interval [start, end)."""

    key: str
    first_day: datetime.date
    last_day: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return _midnight(self.first_day)

    @property
    def end(self) -> datetime.datetime:
        return _midnight(self.last_day + datetime.timedelta(days=1))

    @property
    def days(self) -> dict[str, datetime.date]:
        """The period for the reads that take local days (`first_day`, `last_day`, both included)."""
        return {"first_day": self.first_day, "last_day": self.last_day}

    @property
    def label(self) -> str:
        if self.first_day.day == 1 and self.last_day == add_months(self.first_day, 1) - datetime.timedelta(days=1):
            return f"{self.first_day:%B %Y}"
        return f"{self.first_day:%-d %b %Y} – {self.last_day:%-d %b %Y}"

    def is_partial(self, now: datetime.datetime) -> bool:
        """The period has not ended at `now` (this month, this quarter, a range ending in the future)."""
        return now < self.end

    def label_at(self, now: datetime.datetime) -> str:
        """The label, saying when the period has not ended: "1–12 Nov 2026 so far, of November 2026"
        (definition 10); "… (not begun)" for one starting after `now`."""
        if not self.is_partial(now):
            return self.label
        if now < self.start:
            return f"{self.label} (not begun)"
        today = timezone.localdate(now, timezone.get_default_timezone())
        first = f"{self.first_day:%-d}" if self.first_day.month == today.month else f"{self.first_day:%-d %b}"
        if self.first_day.year != today.year:
            first = f"{self.first_day:%-d %b %Y}"
        return f"{first}–{today:%-d %b %Y} so far, of {self.label}"

    def share_gone(self, now: datetime.datetime) -> float:
        """How much of the period has passed at `now`, 0 to 1, in real hours (a 25-hour DST day is 25)."""
        # In UTC: Python subtracts two times of the same zone as wall clocks, which drops the DST hour.
        start, end, now = (moment.astimezone(datetime.UTC) for moment in (self.start, self.end, now))
        return (min(max(now, start), end) - start).total_seconds() / (end - start).total_seconds()

    def months_of_target(self) -> float:
        """How many months of a monthly target the period holds (days counted per month)."""
        months, day = 0.0, self.first_day
        while day <= self.last_day:
            next_month = add_months(day, 1)
            last = min(self.last_day, next_month - datetime.timedelta(days=1))
            months += ((last - day).days + 1) / days_in_month(day)
            day = next_month
        return months

    @classmethod
    def of(
        cls,
        key: str,
        *,
        now: datetime.datetime,
        first_day: datetime.date | None = None,
        last_day: datetime.date | None = None,
    ) -> "Period":
        """The period called `key` as of `now` (a custom one needs its first and last day)."""
        this_month = month_start(now)
        match key:
            case "last_month":
                first = add_months(this_month, -1)
                return cls(key, first, this_month - datetime.timedelta(days=1))
            case "this_quarter":
                first = this_month.replace(month=(this_month.month - 1) // 3 * 3 + 1)
                return cls(key, first, add_months(first, 3) - datetime.timedelta(days=1))
            case "custom" if first_day and last_day:
                return cls(key, min(first_day, last_day), max(first_day, last_day))
            case _:
                return cls("this_month", this_month, add_months(this_month, 1) - datetime.timedelta(days=1))


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a period and, optionally, one team, rep, campaign and channel.
    `unassigned` (drill-down only) keeps the sales deadlines nobody held: claims left in the queue;
    `no_team` (drill-down only) those held by people in no team (a manager, a rep not yet in one)."""

    period: Period
    team: SalesTeam | None = None
    rep: object = None
    campaign: Campaign | None = None
    channel: str = ""
    unassigned: bool = False
    no_team: bool = False

    def params(self, **overrides) -> dict[str, str]:
        """The filters as URL parameters (only those set), with `overrides` (None removes one)."""
        params = {"period": self.period.key}
        if self.period.key == "custom":
            params |= {"start": self.period.first_day.isoformat(), "end": self.period.last_day.isoformat()}
        for name, value in (("team", self.team), ("rep", self.rep), ("campaign", self.campaign)):
            if value is not None:
                params[name] = str(value.pk)
        if self.channel:
            params["channel"] = self.channel
        if self.unassigned:
            params["unassigned"] = "1"
        if self.no_team:
            params["no_team"] = "1"
        for name, value in overrides.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = str(value)
        return params

    def query(self, **overrides) -> str:
        """`params(**overrides)` URL-encoded, exactly as `urlencode` would: the filters' own pairs are
        encoded once (`_encoded`), as a page links thousands of cells with the same filters and a figure
        or row of their own."""
        encoded = dict(self._encoded)
        for name, value in overrides.items():
            if value is None:
                encoded.pop(name, None)
            else:
                encoded[name] = f"{quote_plus(name)}={quote_plus(str(value))}"
        return "&".join(encoded.values())

    @functools.cached_property
    def _encoded(self) -> dict[str, str]:
        return {name: urlencode({name: value}) for name, value in self.params().items()}

    @property
    def by_people(self) -> bool:
        return self.team is not None or self.rep is not None or self.unassigned or self.no_team


def campaign_q(filters: Filters, field: str = "campaign") -> Q:
    """The campaign and channel filters on a path to a campaign ("" for the campaigns themselves)."""
    q = Q()
    if filters.campaign is not None:
        q &= Q(**{field or "pk": filters.campaign.pk})
    if filters.channel:
        q &= Q(**{f"{field}__channel" if field else "channel": filters.channel})
    return q


def people_q(filters: Filters, field: str) -> Q:
    """The team and rep filters on a path to a user (a team means its reps now)."""
    if filters.unassigned:
        return Q(**{f"{field}__isnull": True})
    if filters.rep is not None:
        return Q(**{field: filters.rep.pk})
    if filters.team is not None:
        return Q(**{f"{field}__in": RepProfile.objects.filter(team=filters.team).values("user_id")})
    if filters.no_team:
        in_a_team = RepProfile.objects.filter(team__isnull=False).values("user_id")
        return Q(**{f"{field}__isnull": False}) & ~Q(**{f"{field}__in": in_a_team})
    return Q()


# The team table's key for the deadlines nobody held: claims missed in the queue.
QUEUE = "queue"


# --- Deadlines decided in a period --------------------------------------------------------------
class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the value below which `fraction` of the ordered values fall."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def decided_deadlines(
    filters: Filters,
    *,
    now: datetime.datetime,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    kinds: tuple[str, ...] = tuple(K.values),
    measured: bool = False,
) -> QuerySet[Deadline]:
    """Deadlines of `kinds` decided from `start` to `end` (default: the period), never after `now`,
    annotated with `decided`. Who held one is its owner (a claim met in time names the person who
    claimed the lead; nobody holds a claim missed in the queue, whoever took the lead later). People
    filters apply to sales' deadlines only. Everything it reads is in `deadline_decided_idx`: one
    index-only range scan, no join.
    `measured` keeps only those a person met, with their business time (a met deadline is always
    decided): what the percentiles sort, read from the narrower `deadline_met_seconds_idx`; the
    escalation's claims take no time of anyone's."""
    start = start or filters.period.start
    end = min(end or filters.period.end, now)
    deadlines = Deadline.objects.annotate(decided=Deadline.decided_at()).filter(
        kind__in=kinds, decided__gte=start, decided__lt=end
    )
    if measured:
        deadlines = deadlines.filter(business_seconds__isnull=False, met_by_escalation=False)
    else:
        deadlines = deadlines.filter(
            Q(met_at__isnull=False)
            | Q(paused_at__isnull=True) & (Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=F("due_at")))
        )
    deadlines = deadlines.filter(campaign_q(filters))
    if filters.by_people:
        deadlines = deadlines.filter(Q(kind=K.FOLLOW_UP) | people_q(filters, "owner"))
    return deadlines


def business_time_percentiles(filters: Filters, *, now: datetime.datetime) -> dict[str, tuple[float, float]]:
    """{kind: (median, 90th percentile)} of the business time people took to meet the deadlines decided
    in the period (`decided_deadlines(measured=True)`). Unfiltered, from the read model's buckets
    (`reporting.met_times`: the same figures, without sorting the period's every deadline); with a
    filter, sorted from the deadlines it keeps, which the read model cannot tell apart."""
    if not filters.by_people and not campaign_q(filters):
        counted = met_time_percentiles(
            start=filters.period.start, end=min(filters.period.end, now), kinds=tuple(K.values), fractions=(0.5, 0.9)
        )
        if counted is not None:
            return counted
        logger.warning("MetTimeDay holds more than the deadlines of %s: percentiles sorted instead", filters.period)
    return sorted_percentiles(filters, now=now)


def sorted_percentiles(filters: Filters, *, now: datetime.datetime) -> dict[str, tuple[float, float]]:
    """The same figures sorted by PostgreSQL (percentile_cont) from every deadline the filters keep."""
    rows = (
        decided_deadlines(filters, now=now, measured=True)
        .values("kind")
        .annotate(median=Percentile("business_seconds", 0.5), p90=Percentile("business_seconds", 0.9))
        .order_by()
    )
    return {row["kind"]: (row["median"], row["p90"]) for row in rows}


@dataclass
class Clock:
    """One kind of deadline over a period: decided on time (by a person) or late, and for the late ones
    whether the sweep recorded the breach (it may not have yet) and the escalations they caused. Beside
    them, what an escalation met: by the due time (`by_escalation`, in neither figure) or after it
    (`late_by_escalation`, a miss rescued late, counted in `late`)."""

    on_time: int = 0
    late: int = 0
    recorded: int = 0
    by_escalation: int = 0
    late_by_escalation: int = 0
    escalations: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    # Of the late ones, those an upheld appeal excused (definition 9): counted in the figures as ruled only.
    excused: int = 0

    def add(self, row: dict) -> None:
        self.on_time += row["on_time"]
        self.late += row["late"]
        self.recorded += row["recorded"]
        self.by_escalation += row.get("by_escalation", 0)
        self.late_by_escalation += row.get("late_by_escalation", 0)
        self.escalations += row.get("escalations", 0)

    @property
    def decided(self) -> int:
        """Decided by people: on time or late (a late one an escalation rescued is still late)."""
        return self.on_time + self.late

    @property
    def unrecorded(self) -> int:
        """Late but not recorded by the sweep: met late before it ran, or overdue and not swept yet."""
        return self.late - self.recorded

    @property
    def attainment(self) -> float | None:
        """As recorded: what happened, whatever was ruled since."""
        return rate(self.on_time, self.decided)

    @property
    def late_as_ruled(self) -> int:
        return self.late - self.excused

    @property
    def attainment_as_ruled(self) -> float | None:
        """As ruled: an excused breach counts neither way, like a deadline paused on hold."""
        return rate(self.on_time, self.decided - self.excused)


# The deadline kinds, read once: `K.values` builds its list again on every call, and the page makes a
# clock per kind for every person, campaign and group.
KINDS = tuple(K.values)


def _clocks() -> dict[str, Clock]:
    return {kind: Clock() for kind in KINDS}


def deadline_outcomes(
    filters: Filters,
    *,
    now: datetime.datetime,
    by: tuple[str, ...],
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    kinds: tuple[str, ...] = tuple(K.values),
    week_zone=None,
    sides: tuple[str, ...] = (),
) -> list[dict]:
    """What `decided_deadlines` would count (on time, late, recorded) grouped `by` (and each of `sides`
    apart, see `outcome_rows`), read from the `DeadlineOutcome` read model for the hours that have
    passed (see `reporting.outcomes`); rows to add up."""
    outcomes = DeadlineOutcome.objects.filter(kind__in=kinds).filter(campaign_q(filters))
    # The months and weeks hold each side alone: a filter on the other side needs the hours' pairs.
    by_pairs = filters.by_people or bool(campaign_q(filters))
    if filters.by_people:
        outcomes = outcomes.filter(Q(kind=K.FOLLOW_UP) | people_q(filters, "owner"))
    return outcome_rows(
        lambda edge_start, edge_end: decided_deadlines(filters, now=now, start=edge_start, end=edge_end, kinds=kinds),
        outcomes,
        start=start or filters.period.start,
        end=end or filters.period.end,
        now=now,
        by=by,
        week_zone=week_zone,
        sides=sides,
        months=None if by_pairs else DeadlineOutcomeMonth.objects.filter(kind__in=kinds),
        weeks=None if by_pairs else DeadlineOutcomeWeek.objects.filter(kind__in=kinds),
    )


def excused_breaches(filters: Filters, *, now: datetime.datetime, kinds: tuple[str, ...] = tuple(K.values)) -> QuerySet:
    """The period's late deadlines whose appeal was upheld: the one read of what the rulings excused,
    for the figures as ruled and their drill-down alike. Starts from the upheld appeals (a few), each
    joined to its deadline by key, and keeps those `decided_deadlines` counts late."""
    return decided_deadlines(filters, now=now, kinds=kinds).filter(LATE, pk__in=excused_deadlines())


def escalation_steps(filters: Filters, *, now: datetime.datetime) -> QuerySet[Escalation]:
    """Escalation steps done for the sales deadlines of the period that were breached: what "Escalations
    caused" counts and lists. A breached deadline is decided at its due time, so its due time is in the
    period; the step belongs to whoever held the deadline (the queue for a claim missed there).
    The sweep opens steps only for a breached deadline and a breach is never undone: saying so lets the
    period's breaches be read from `deadline_breached_due_idx`, not every sales deadline."""
    escalations = Escalation.objects.filter(
        done_at__isnull=False,
        deadline__breached_at__isnull=False,
        deadline__kind__in=Deadline.SALES_KINDS,
        deadline__due_at__gte=filters.period.start,
        deadline__due_at__lt=min(filters.period.end, now),
    ).filter(campaign_q(filters, "deadline__campaign"))
    if filters.by_people:
        escalations = escalations.filter(people_q(filters, "deadline__owner"))
    return escalations


def escalations_caused(filters: Filters, *, now: datetime.datetime) -> QuerySet:
    """`escalation_steps` counted per (kind, owner, campaign) of their deadlines, read from the
    `EscalationDay` read model (`reporting.escalations`): a breached deadline's due time has passed, so
    the period's days hold all of them, whatever `now` is."""
    steps = EscalationDay.objects.filter(
        kind__in=Deadline.SALES_KINDS, day__range=(filters.period.first_day, filters.period.last_day)
    )
    steps = steps.filter(campaign_q(filters))
    if filters.by_people:
        steps = steps.filter(people_q(filters, "owner"))
    return (
        steps.values("kind", "owner", "campaign")
        .annotate(escalations=Sum("escalations"))
        .exclude(escalations=0)
        .order_by()
    )


# --- The figures --------------------------------------------------------------------------------
@dataclass
class RepFigures:
    """One person's sales figures in the period. Claims are split by how the lead came to them."""

    user: object
    team: SalesTeam | None
    is_rep: bool = False
    clocks: dict[str, Clock] = field(default_factory=_clocks)
    claimed: int = 0
    assigned_by_manager: int = 0
    assigned_automatically: int = 0
    assigned_by_escalation: int = 0
    reassigned_to: int = 0
    contacted: int = 0
    converted: int = 0
    won: int = 0
    won_revenue: Decimal = Decimal(0)

    @property
    def claims(self) -> Clock:
        return self.clocks[K.CLAIM]

    @property
    def first_contacts(self) -> Clock:
        return self.clocks[K.FIRST_CONTACT]

    @property
    def missed(self) -> int:
        return self.claims.late + self.first_contacts.late

    @property
    def escalations(self) -> int:
        return self.claims.escalations + self.first_contacts.escalations

    @property
    def is_empty(self) -> bool:
        return not (
            self.claims.decided
            or self.first_contacts.decided
            or self.claimed
            or self.assigned_by_manager
            or self.assigned_automatically
            or self.assigned_by_escalation
            or self.reassigned_to
            or self.contacted
            or self.converted
            or self.won
        )


@dataclass
class SalesGroup:
    """Sales' misses of one team, campaign or channel."""

    key: object
    label: str
    clocks: dict[str, Clock] = field(default_factory=_clocks)

    @property
    def missed(self) -> int:
        return self.clocks[K.CLAIM].late + self.clocks[K.FIRST_CONTACT].late

    @property
    def escalations(self) -> int:
        return self.clocks[K.CLAIM].escalations + self.clocks[K.FIRST_CONTACT].escalations


@dataclass
class Acceptance:
    """Marketing's hand-offs in the period whose claim window has closed (`decided`), and what sales'
    people did: claimed them (at least once), and kept them (claimed and not returned to marketing).
    Those an escalation gave to someone (`by_escalation`) were not claimed by anyone: shown beside."""

    handed_off: int = 0
    decided: int = 0
    claimed: int = 0
    returned: int = 0
    by_escalation: int = 0

    def add(self, row: dict) -> None:
        for name in ("handed_off", "decided", "claimed", "returned", "by_escalation"):
            setattr(self, name, getattr(self, name) + row.get(name, 0))

    @property
    def in_claim_window(self) -> int:
        return self.handed_off - self.decided

    @property
    def kept(self) -> int:
        return self.claimed - self.returned

    @property
    def kept_rate(self) -> float | None:
        """Sales acceptance as the policy means it: claimed and kept, of the decided leads."""
        return rate(self.kept, self.decided)

    @property
    def claimed_rate(self) -> float | None:
        return rate(self.claimed, self.decided)


@dataclass
class CampaignFigures:
    """One campaign in the period: marketing's side and its funnel (events in the period, not a cohort)."""

    campaign: Campaign
    months_of_target: float
    captured: int = 0
    mqls: int = 0
    contacted: int = 0
    converted: int = 0
    won: int = 0
    won_revenue: Decimal = Decimal(0)
    acceptance: Acceptance = field(default_factory=Acceptance)
    clocks: dict[str, Clock] = field(default_factory=_clocks)

    @property
    def handed_off(self) -> int:
        """Marketing's hand-offs of the period (definition 2): a lead put back in the queue is not one."""
        return self.acceptance.handed_off

    @property
    def accepted(self) -> int:
        """The funnel's "Accepted": of those hand-offs, claimed by a person and kept (definition 2)."""
        return self.acceptance.kept

    @property
    def mql_target(self) -> int | None:
        """The monthly target over the period's share of months, rounded; None without a target."""
        target = self.campaign.target_mqls_per_month
        return round(target * self.months_of_target) if target else None

    @property
    def mql_percent(self) -> float | None:
        target = self.mql_target
        return rate(self.mqls, target) if target else None

    @property
    def spend(self) -> Decimal:
        return self.campaign.actual_spend

    @property
    def cost_per_won(self) -> Decimal | None:
        return (self.spend / self.won).quantize(Decimal("0.01")) if self.won else None

    @property
    def roi(self) -> float | None:
        """(won revenue − spend) ÷ spend, in percent; None without spend."""
        if not self.spend:
            return None
        return round(100 * float(self.won_revenue - self.spend) / float(self.spend), 1)

    @property
    def is_idle(self) -> bool:
        """Nothing of this campaign happened in the period."""
        counts = (self.captured, self.mqls, self.handed_off, self.accepted, self.contacted, self.converted, self.won)
        return not any(counts) and not self.acceptance.handed_off and not any(c.decided for c in self.clocks.values())

    def stages(self) -> list[tuple[str, str, int, float | None]]:
        """The funnel's stages: label, figure (its list), count, and its rate from the stage before."""
        return funnel_stages([getattr(self, attribute) for attribute, _, _ in FUNNEL])


# The funnel's stages: the attribute of `CampaignFigures` counting it, its label, the figure listing it.
FUNNEL = (
    ("captured", "Captured", "captured"),
    ("mqls", "MQL", "mqls"),
    ("handed_off", "Handed off", "handed_off"),
    ("accepted", "Accepted", "acceptance_kept"),
    ("contacted", "Contacted", "contacted"),
    ("converted", "Converted", "converted"),
    ("won", "Won", "won"),
)


def funnel_stages(counts: list[int]) -> list[tuple[str, str, int, float | None]]:
    """Each stage (label, figure, count) with its share of the stage before, by `rate` (definition 6:
    2,000 of 2,001 is 99.9 %, not 100 %)."""
    return [
        (label, figure, count, rate(count, counts[i - 1]) if i else None)
        for i, ((_, label, figure), count) in enumerate(zip(FUNNEL, counts, strict=True))
    ]


class Side:
    SALES = "sales"
    MARKETING = "marketing"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Miss:
    """One line of the attribution table: misses of one kind, whose they are and the evidence."""

    side: str
    label: str
    count: int
    evidence: str
    figure: str
    extra: dict = field(default_factory=dict)


@dataclass
class Week:
    start: datetime.date
    on_time: int = 0
    late: int = 0
    median_claim_seconds: float | None = None
    acceptance: Acceptance = field(default_factory=Acceptance)

    @property
    def handed_off(self) -> int:
        return self.acceptance.handed_off

    def is_partial(self, now: datetime.datetime) -> bool:
        """The week has not ended at `now`: its figures are of the days so far."""
        return now < _midnight(self.start + datetime.timedelta(weeks=1))

    @property
    def attainment(self) -> float | None:
        return rate(self.on_time, self.on_time + self.late)


@dataclass(frozen=True)
class RuledRow:
    """One clock's attainment as recorded and as ruled, with its drill-downs' figures."""

    label: str
    figure: str
    clock: Clock

    @property
    def late(self) -> str:
        return f"{self.figure}_late"

    @property
    def excused(self) -> str:
        return f"{self.figure}_excused"

    @property
    def late_as_ruled(self) -> str:
        return f"{self.figure}_late_as_ruled"


@dataclass
class Dashboard:
    filters: Filters
    now: datetime.datetime
    acceptance_target: int
    sales: dict[str, Clock]
    marketing: dict[str, Clock]
    handed_off: int
    converted: int
    converted_value: Decimal
    won: int
    won_revenue: Decimal
    acceptance: Acceptance
    mqls: int
    returns: list[tuple[str, str, int]]
    reps: list[RepFigures]
    teams: list[SalesGroup]
    campaigns: list[CampaignFigures]
    channels: list[SalesGroup]
    trends: list[Week]
    open_appeals: int = 0

    @property
    def claims(self) -> Clock:
        return self.sales[K.CLAIM]

    @property
    def first_contacts(self) -> Clock:
        return self.sales[K.FIRST_CONTACT]

    @property
    def follow_ups(self) -> Clock:
        return self.marketing[K.FOLLOW_UP]

    @property
    def as_ruled(self) -> list[RuledRow]:
        clocks = {K.CLAIM: self.claims, K.FIRST_CONTACT: self.first_contacts, K.FOLLOW_UP: self.follow_ups}
        return [
            RuledRow(title.removeprefix("Late ").capitalize(), figure, clocks[kind]) for figure, title, kind in _RULED
        ]

    @property
    def period_label(self) -> str:
        return self.filters.period.label_at(self.now)

    @property
    def returns_total(self) -> int:
        return sum(count for _, _, count in self.returns)

    @property
    def attribution(self) -> list[Miss]:
        """Every miss of the period on one side, with its evidence: late sales deadlines are sales';
        returns for a reason marked as lead quality, and late follow-ups, are marketing's; other
        returns are neutral."""
        misses = [
            Miss(
                Side.SALES,
                "Late claims",
                self.claims.late,
                "The claim deadline passed while the lead waited in the queue (recorded by the sweep or not): "
                "the team's miss, whoever took the lead later.",
                "claims_late",
            ),
            Miss(
                Side.SALES,
                "Late first contacts",
                self.first_contacts.late,
                "The rep who held the lead when the first contact fell due had not reached it by then.",
                "first_contacts_late",
            ),
            Miss(
                Side.MARKETING,
                "Late returned-lead follow-ups",
                self.follow_ups.late,
                "Marketing did not re-nurture or disqualify a returned lead within the policy's business days.",
                "follow_ups_late",
            ),
        ]
        for side, reason, count in self.returns:
            evidence = (
                "Sales returned it for a reason managers mark as lead quality (data, duplicate, target)."
                if side == Side.MARKETING
                else "Sales returned it for a reason that is nobody's miss (timing, budget, …)."
            )
            misses.append(Miss(side, f"Returned: {reason}", count, evidence, "returns", {"reason": reason}))
        order = {Side.SALES: 0, Side.MARKETING: 1, Side.NEUTRAL: 2}
        return sorted(misses, key=lambda miss: order[miss.side])

    def side_total(self, side: str) -> int:
        return sum(miss.count for miss in self.attribution if miss.side == side)


def _people(filters: Filters) -> tuple[dict, set | None]:
    """Everyone who can hold a sales deadline (reps, managers, anyone with a rep profile) with their
    team, and the ids the team/rep filter keeps (None: everyone). One query."""
    # The team's columns ride along on each user's row and a team is built once per team, not once per
    # user with a profile beside it (select_related: ~1,260 model instances for ~420 people at 1M, most
    # of the ~20 ms this took).
    team_columns = {f"team_column_{field.attname}": field.attname for field in SalesTeam._meta.concrete_fields}
    users = (
        get_user_model()
        .objects.filter(Q(groups__name__in=[Role.SALES, Role.MANAGERS]) | Q(rep_profile__isnull=False))
        .annotate(
            is_rep=Exists(Group.objects.filter(user=OuterRef("pk"), name=Role.SALES)),
            **{alias: F(f"rep_profile__team__{attname}") for alias, attname in team_columns.items()},
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    people, teams = {}, {}
    team_pk = f"team_column_{SalesTeam._meta.pk.attname}"
    for user in users:
        key = getattr(user, team_pk)
        if key is not None and key not in teams:
            values = [getattr(user, alias) for alias in team_columns]
            teams[key] = SalesTeam.from_db(users.db, list(team_columns.values()), values)
        people[user.pk] = RepFigures(user=user, team=teams.get(key), is_rep=user.is_rep)
    if filters.unassigned:
        kept = set()
    elif filters.rep is not None:
        kept = {filters.rep.pk}
    elif filters.team is not None:
        kept = {pk for pk, figures in people.items() if figures.team == filters.team}
    elif filters.no_team:
        kept = {pk for pk, figures in people.items() if figures.team is None}
    else:
        kept = None
    return people, kept


def _won_deals(
    filters: Filters,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    by_campaign: bool = True,
    by_people: bool = True,
) -> list[tuple]:
    """Deals won from `start` to `end` (a deal converted as won has no stage event: read the deals, by
    when they closed; each carries its campaign, so `deal_won_idx` answers without a join), counted and
    summed per campaign and per owner apart: (side, key, count, revenue) with side "campaign" or "owner".
    One pass (GROUPING SETS), a few hundred rows: grouped by the (campaign, owner) pairs instead, a
    90-day period at a million leads read ~9,000 rows, and turning them into Python cost ~50 ms.
    Without `by_campaign` per owner alone, without `by_people` per campaign alone (a table of people or
    of campaigns: one hash over ~15,000 deals, not two)."""
    deals = (
        Deal.objects.filter(stage=Deal.Stage.WON, closed_at__gte=start, closed_at__lt=end)
        .filter(campaign_q(filters))
        .values("campaign_id", "owner_id", "value")
        .order_by()
    )
    if not (by_campaign and by_people):
        side, column = ("campaign", "campaign_id") if by_campaign else ("owner", "owner_id")
        summed = deals.values(column).annotate(n=Count("*"), revenue=Sum("value")).values_list(column, "n", "revenue")
        return [(side, key, n, revenue) for key, n, revenue in summed]
    inner, params = deals.query.sql_with_params()
    sql = (
        "SELECT CASE WHEN GROUPING(campaign_id) = 0 THEN 'campaign' ELSE 'owner' END,"  # noqa: S608 - ORM SQL
        " CASE WHEN GROUPING(campaign_id) = 0 THEN campaign_id ELSE owner_id END, COUNT(*), SUM(value)"
        f" FROM ({inner}) AS won GROUP BY GROUPING SETS ((campaign_id), (owner_id))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _return_sides() -> dict[str, str]:
    return dict(ReturnReason.objects.values_list("label", "side"))


# Aggregates over a period's rows: PostgreSQL's JIT compiler spends longer compiling them than they take
# to run, and sorts for the percentiles should stay in memory. No parallel workers either: the sums read
# a few thousand rollup rows, and starting two workers on a 2-core machine cost more than it saved (the
# reps' deadline sums at 1M: 26 ms with workers, 20 ms without).
_AGGREGATE_SETTINGS = "SET LOCAL jit = off; SET LOCAL work_mem = '32MB'; SET LOCAL max_parallel_workers_per_gather = 0"


# The parts of the figures, each read apart: a CSV export of one table reads only the parts it shows
# (`reporting.dashboard_tables.TABLES`); the page reads them all.
PARTS = frozenset(
    {
        "deadlines",
        "times",
        "excused",
        "events",
        "campaigns",
        "people",
        "mqls",
        "assignments",
        "won",
        "acceptance",
        "trends",
        "appeals",
    }
)


def sla_dashboard(*, filters: Filters, now: datetime.datetime, parts: frozenset[str] = PARTS) -> Dashboard:
    """Every figure of the dashboard for `filters` as of `now` (of `parts` only: the others stay
    empty), in a constant number of queries, all read from one snapshot of the database (a figure
    read in two steps, as the percentiles are, sees no change made between them)."""
    outermost = not connection.in_atomic_block
    if outermost:
        # A reused connection's health check (a SELECT) runs with the first cursor: before the
        # transaction, or it would come before SET TRANSACTION.
        connection.cursor().close()
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # inside a caller's transaction (a test's) its snapshot rules
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(_AGGREGATE_SETTINGS)
        return _dashboard(filters=filters, now=now, parts=parts)


def _dashboard(*, filters: Filters, now: datetime.datetime, parts: frozenset[str]) -> Dashboard:
    zone = timezone.get_default_timezone()
    start, end = filters.period.start, filters.period.end
    # "campaigns": the campaign side of the deadlines, events and deals (per campaign, channel and return
    # reason); "people": the people's side (per person and team, and the sales side's totals). A table of
    # campaigns alone reads no person's figures, a table of people alone no campaign's.
    by_campaign = "campaigns" in parts
    by_people = "people" in parts or not by_campaign
    people, kept = _people(filters) if by_people else ({}, None)
    campaigns = {
        campaign.pk: CampaignFigures(campaign=campaign, months_of_target=filters.period.months_of_target())
        for campaign in Campaign.objects.filter(campaign_q(filters, "")).select_related("owner").order_by("name")
    }

    # Deadlines: per kind and person, and per kind and campaign (never the pairs: at a million leads a
    # quarter has ~44,000 of them), each summed up every way the page shows from its side.
    sales, marketing = _clocks(), _clocks()
    by_team: dict[object, SalesGroup] = {}
    by_channel: dict[str, SalesGroup] = {}

    def add_for_person(kind: str, person, row: dict) -> None:
        if kind == K.FOLLOW_UP:
            marketing[kind].add(row)
            return
        sales[kind].add(row)
        rep = people.get(person)
        if rep is None:
            rep = people[person] = RepFigures(user=None, team=None)
        rep.clocks[kind].add(row)
        # The queue is a row of its own (definition 4): its misses are the sales team's, not a no-team rep's.
        key = QUEUE if person is None else rep.team
        # Kept by the team's pk: hashing a model instance costs a few Python calls, twice a row.
        found = key.pk if isinstance(key, SalesTeam) else key
        group = by_team.get(found)
        if group is None:
            label = "The queue (nobody claimed it)" if key == QUEUE else key.name if key else "No team"
            group = by_team[found] = SalesGroup(key, label)
        group.clocks[kind].add(row)

    def add_for_campaign(kind: str, campaign: CampaignFigures | None, row: dict) -> None:
        if campaign is None:
            return
        campaign.clocks[kind].add(row)
        if kind != K.FOLLOW_UP:
            channel = campaign.campaign.channel
            if channel not in by_channel:
                by_channel[channel] = SalesGroup(channel, campaign.campaign.get_channel_display())
            by_channel[channel].clocks[kind].add(row)

    if "deadlines" in parts:
        sides = ("owner",) * by_people + ("campaign",) * by_campaign
        for row in deadline_outcomes(filters, now=now, by=("kind",), sides=sides):
            if row["side"] == "owner":
                add_for_person(row["kind"], row["key"], row)
            else:
                add_for_campaign(row["kind"], campaigns.get(row["key"]), row)
        for row in escalations_caused(filters, now=now):
            row = {"on_time": 0, "late": 0, "recorded": 0, **row}
            if by_people:
                add_for_person(row["kind"], row["owner"], row)
            add_for_campaign(row["kind"], campaigns.get(row["campaign"]), row)
    for kind, (median, p90) in business_time_percentiles(filters, now=now).items() if "times" in parts else ():
        clock = marketing[kind] if kind == K.FOLLOW_UP else sales[kind]
        clock.median_seconds, clock.p90_seconds = median, p90
    excused = excused_breaches(filters, now=now).values("kind").annotate(n=Count("pk")).order_by()
    for row in excused if "excused" in parts else ():
        (marketing if row["kind"] == K.FOLLOW_UP else sales)[row["kind"]].excused = row["n"]

    # Timeline events per campaign (marketing's side, the funnel) and per person (sales' side).
    # One pass over the period's rows, summed per campaign, per person and per return reason, each for
    # the kinds it shows (a person's returns, 4 rows a rep a month, are not read).
    funnel = {E.CAPTURED: "captured", E.CONTACTED: "contacted", E.CONVERTED: "converted"}
    rep_counts = {E.CLAIMED: "claimed", E.CONTACTED: "contacted", E.CONVERTED: "converted"}
    shown = {("campaign",): list(funnel), ("user",): list(rep_counts), ("subgroup",): [E.RETURNED]}
    events = (
        counts_grouped(
            [E.CAPTURED, E.CLAIMED, E.CONTACTED, E.CONVERTED, E.RETURNED],
            **filters.period.days,
            sets=(("campaign",), ("subgroup",)) * by_campaign + (("user",),) * by_people,
            where=campaign_q(filters),
            only=shown,
        )
        if "events" in parts
        else []
    )
    returns: dict[str, int] = defaultdict(int)
    converted_value = Decimal(0)
    for row in events:
        kind, value = row["kind"], row["value"]
        if "campaign" in row:
            campaign = campaigns.get(row["campaign"])
            if campaign and kind in funnel:
                setattr(campaign, funnel[kind], getattr(campaign, funnel[kind]) + value)
        elif "subgroup" in row:
            if kind == E.RETURNED:
                returns[row["subgroup"]] += value
        elif kind in rep_counts and (kept is None or row["user"] in kept):
            rep = people.get(row["user"])
            if rep is not None:
                setattr(rep, rep_counts[kind], getattr(rep, rep_counts[kind]) + value)
            if kind == E.CONVERTED:
                converted_value += row["amount"]

    mqls = mqls_by_campaign(**filters.period.days, where=campaign_q(filters)) if "mqls" in parts else {}
    for campaign_pk, count in mqls.items():
        if campaign_pk in campaigns:
            campaigns[campaign_pk].mqls = count

    # Assignments: by a manager, automatic (routing's round-robin), by an escalation (not an acceptance:
    # nobody in sales took the lead), or a reassignment.
    by_escalation = Q(actor__isnull=True, data__has_key="escalation")
    assignments = (
        LeadEvent.objects.filter(kind=E.ASSIGNED, created_at__gte=start, created_at__lt=end)
        .filter(campaign_q(filters, "lead__campaign"))
        .values(rep=KT("data__rep"), campaign=F("lead__campaign"))
        .annotate(
            manager=Count("id", filter=Q(actor__isnull=False) & ~Q(data__has_key="from")),
            automatic=Count("id", filter=Q(actor__isnull=True) & ~by_escalation),
            escalation=Count("id", filter=by_escalation),
            reassigned=Count("id", filter=Q(data__has_key="from")),
        )
        .order_by()
    )
    for row in assignments if "assignments" in parts else ():
        person = int(row["rep"]) if row["rep"] and row["rep"].isdigit() else None
        if person in people and (kept is None or person in kept):
            rep = people[person]
            rep.assigned_by_manager += row["manager"]
            rep.assigned_automatically += row["automatic"]
            rep.assigned_by_escalation += row["escalation"]
            rep.reassigned_to += row["reassigned"]

    won_total, won_revenue = 0, Decimal(0)
    for side, key, n, revenue in (
        _won_deals(filters, start=start, end=end, by_campaign=by_campaign, by_people=by_people)
        if "won" in parts
        else ()
    ):
        if side == "campaign":
            campaign = campaigns.get(key)
            if campaign:
                campaign.won += n
                campaign.won_revenue += revenue
        elif kept is None or key in kept:
            won_total += n
            won_revenue += revenue
            if key in people:
                people[key].won += n
                people[key].won_revenue += revenue

    acceptance = Acceptance()
    for row in acceptance_rows(filters, now=now, by="campaign") if "acceptance" in parts else ():
        acceptance.add(row)
        if row["campaign"] in campaigns:
            campaigns[row["campaign"]].acceptance.add(row)

    sides = _return_sides()
    # Active reps always have a row; anyone else (a manager, a former rep, the queue) when they did something.
    rows = [
        rep
        for pk, rep in people.items()
        if (kept is None or pk in kept) and (not rep.is_empty or (rep.is_rep and rep.user.is_active))
    ]
    return Dashboard(
        filters=filters,
        now=now,
        acceptance_target=SlaPolicy.current().acceptance_target_percent,
        sales=sales,
        marketing=marketing,
        handed_off=acceptance.handed_off,
        converted=sum(rep.converted for pk, rep in people.items() if kept is None or pk in kept),
        converted_value=converted_value,
        won=won_total,
        won_revenue=won_revenue,
        acceptance=acceptance,
        mqls=sum(c.mqls for c in campaigns.values()),
        returns=sorted(
            ((sides.get(reason, Side.NEUTRAL), reason, count) for reason, count in returns.items()),
            key=lambda item: (-item[2], item[1]),
        ),
        reps=rows,
        teams=sorted(by_team.values(), key=lambda group: (not isinstance(group.key, SalesTeam), group.label)),
        # An archived campaign shows only for a period it did something in.
        campaigns=[row for row in campaigns.values() if not (row.campaign.is_archived and row.is_idle)],
        channels=sorted(by_channel.values(), key=lambda group: group.label),
        trends=cached_trends(filters, now=now, zone=zone) if "trends" in parts else [],
        open_appeals=Appeal.objects.filter(ruling__isnull=True).count() if "appeals" in parts else 0,
    )


# --- Acceptance ---------------------------------------------------------------------------------
def acceptance_rows(filters: Filters, *, now: datetime.datetime, by: str, start=None, end=None) -> list[dict]:
    """Marketing's hand-offs from `start` to `end` (default: the period), grouped `by` "campaign" or
    "day" (local): how many, how many with the claim window closed (claimed, or past the claim deadline),
    claimed by a person, claimed by a person then returned to marketing, and given to someone by an
    escalation. A lead put back in the queue (by a person or an escalation) is not handed off again:
    that pass is not marketing's. Rows to add up, from one query whatever the period:

    - the local days from `AcceptanceDay` (`reporting.acceptance`), the one still running too, less
      what it holds after `now` (none, unless `now` is not the present: a range of
      `handoff_handed_off_at_idx` that is empty);
    - the claim windows of those days closed by time (the clock still running past its due time, which
      the read model cannot know): the queue's overdue claims, a few hundred, from
      `deadline_unclaimed_idx`;
    - a part-day at the start (never, for a period of whole days) from the hand-offs themselves."""
    zone = timezone.get_default_timezone()
    start, end = start or filters.period.start, min(end or filters.period.end, now)
    if end <= start:
        return []
    first_day, last_day = timezone.localdate(start, zone), timezone.localdate(end, zone)
    if _midnight(first_day) < start:
        first_day += datetime.timedelta(days=1)
    if _midnight(last_day) < end:
        last_day += datetime.timedelta(days=1)  # the days read are those before it
    if first_day >= last_day:
        parts = [_acceptance_counted(filters, start=start, end=end, closed_at=now, by=by, zone=zone)]
    else:
        days_start, days_end = _midnight(first_day), _midnight(last_day)
        parts = [
            AcceptanceDay.objects.filter(day__gte=first_day, day__lt=last_day)
            .filter(campaign_q(filters))
            .annotate(group=F("campaign") if by == "campaign" else F("day"))
            .values("group")
            .annotate(
                handed_off=Sum("handed_off"),
                decided=Sum("closed"),
                claimed=Sum("claimed"),
                returned=Sum("returned"),
                by_escalation=Sum("by_escalation"),
            ),
            _acceptance_counted(filters, start=end, end=days_end, closed_at=None, by=by, zone=zone, sign=-1),
            _closed_by_time(filters, start=days_start, end=end, now=now, by=by, zone=zone),
        ]
        if start < days_start:
            parts.append(_acceptance_counted(filters, start=start, end=days_start, closed_at=now, by=by, zone=zone))
    rows = parts[0].order_by().union(*(part.order_by() for part in parts[1:]), all=True)
    return [{by: row["group"], **{name: int(row[name]) for name in ACCEPTANCE_COUNTED}} for row in rows]


ACCEPTANCE_COUNTED = ("handed_off", "decided", "claimed", "returned", "by_escalation")


def _acceptance_group(by: str, zone):
    """What hand-offs are grouped by: their campaign, or the local day they were handed off."""
    return F("campaign") if by == "campaign" else TruncDate("handed_off_at", tzinfo=zone)


def _acceptance_counted(
    filters: Filters,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    closed_at: datetime.datetime | None,
    by: str,
    zone,
    sign: int = 1,
) -> QuerySet:
    """The hand-offs handed off from `start` to `end`, each joined to its claim clock, counted per `by`
    (times `sign`): a claim window is closed when the clock was met or cancelled, or (with `closed_at`)
    when its due time has passed by then."""
    handoffs = (
        Handoff.objects.filter(
            source=Handoff.Source.HAND_OFF, handed_off_at__gte=start, handed_off_at__lt=end, deadlines__kind=K.CLAIM
        )
        .filter(campaign_q(filters))
        .annotate(group=_acceptance_group(by, zone))
    )
    claim = "deadlines__"
    closed = Q(**{f"{claim}met_at__isnull": False}) | Q(**{f"{claim}cancelled_at__isnull": False})
    if closed_at is not None:
        closed |= Q(**{f"{claim}due_at__lte": closed_at})
    by_people = Q(**{f"{claim}met_at__isnull": False, f"{claim}met_by_escalation": False})
    return handoffs.values("group").annotate(
        handed_off=sign * Count("pk"),
        decided=sign * Count("pk", filter=closed),
        claimed=sign * Count("pk", filter=by_people),
        returned=sign * Count("pk", filter=by_people & Q(outcome=Handoff.Outcome.RETURNED)),
        by_escalation=sign * Count("pk", filter=Q(**{f"{claim}met_by_escalation": True})),
    )


def _closed_by_time(
    filters: Filters, *, start: datetime.datetime, end: datetime.datetime, now: datetime.datetime, by: str, zone
) -> QuerySet:
    """The hand-offs from `start` to `end` whose claim clock still runs past its due time at `now`,
    counted as decided per `by`. The running overdue claims are read first, alone, into an array (not
    a join: the planner guesses thousands of them and would scan the period's hand-offs)."""
    overdue, params = (
        Deadline.objects.filter(kind=K.CLAIM, met_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now)
        .values("handoff")
        .query.sql_with_params()
    )
    in_overdue = RawSQL(f'"handoff_handoff"."id" = ANY(ARRAY({overdue}))', params, output_field=BooleanField())  # noqa: S611 - our SQL, params apart
    nothing = Value(0, output_field=BigIntegerField())
    return (
        Handoff.objects.filter(
            in_overdue, source=Handoff.Source.HAND_OFF, handed_off_at__gte=start, handed_off_at__lt=end
        )
        .filter(campaign_q(filters))
        .annotate(group=_acceptance_group(by, zone))
        .values("group")
        .annotate(handed_off=nothing, decided=Count("pk"), claimed=nothing, returned=nothing, by_escalation=nothing)
    )


def acceptance_handoffs(filters: Filters, *, now: datetime.datetime) -> QuerySet[Handoff]:
    """Marketing's hand-offs of the period (up to `now`), each joined to its claim deadline to tell
    whether the claim window has closed (`claim_due_passed`) and whether an escalation met the claim
    (`claimed_by_escalation`): the rows behind the acceptance figures."""
    return (
        Handoff.objects.filter(
            source=Handoff.Source.HAND_OFF,
            handed_off_at__gte=filters.period.start,
            handed_off_at__lt=min(filters.period.end, now),
            deadlines__kind=K.CLAIM,
        )
        .filter(campaign_q(filters))
        .annotate(
            claim_due_passed=ExpressionWrapper(Q(deadlines__due_at__lte=now), output_field=BooleanField()),
            claimed_by_escalation=F("deadlines__met_by_escalation"),
        )
    )


# --- Trends -------------------------------------------------------------------------------------
def trend_weeks(now: datetime.datetime) -> tuple[datetime.date, datetime.datetime, datetime.datetime]:
    """The first Monday and the bounds of the last TREND_WEEKS local weeks, this one included."""
    today = timezone.localdate(now, timezone.get_default_timezone())
    first = today - datetime.timedelta(days=today.weekday() + 7 * (TREND_WEEKS - 1))
    return first, _midnight(first), _midnight(first + datetime.timedelta(weeks=TREND_WEEKS))


# Weekly trends read a quarter of deadlines; past weeks hardly change, so they are kept this long.
TRENDS_CACHE_SECONDS = 300


def cached_trends(filters: Filters, *, now: datetime.datetime, zone) -> list[Week]:
    """`weekly_trends`, kept in the cache for TRENDS_CACHE_SECONDS per filters and week."""
    first, _, _ = trend_weeks(now)
    key = "dashboard-trends:" + filters.query(period=None, start=None, end=None, week=first.isoformat())
    return cache.get_or_set(key, lambda: weekly_trends(filters, now=now, zone=zone), TRENDS_CACHE_SECONDS)


def weekly_trends(filters: Filters, *, now: datetime.datetime, zone) -> list[Week]:
    """Per local week of the last quarter: sales attainment (claims and first contacts), the median
    business time to claim, marketing's hand-offs and acceptance (claimed and kept). Three queries; the
    period filter does not apply, the others do."""
    first, start, end = trend_weeks(now)
    weeks = {first + datetime.timedelta(weeks=i): Week(first + datetime.timedelta(weeks=i)) for i in range(TREND_WEEKS)}

    def week_of(moment: datetime.datetime) -> Week | None:
        return weeks.get(timezone.localdate(moment, zone))

    for row in deadline_outcomes(
        filters, now=now, by=("week",), start=start, end=end, kinds=Deadline.SALES_KINDS, week_zone=zone
    ):
        if week := week_of(row["week"]):
            week.on_time += row["on_time"]
            week.late += row["late"]
    medians = (
        decided_deadlines(filters, now=now, start=start, end=end, kinds=(K.CLAIM,), measured=True)
        .annotate(week=TruncWeek("decided", tzinfo=zone))
        .values("week")
        .annotate(median=Percentile("business_seconds", 0.5))
        .order_by()
    )
    for row in medians:
        if week := week_of(row["week"]):
            week.median_claim_seconds = row["median"]
    for row in acceptance_rows(filters, now=now, by="day", start=start, end=end):
        if week := weeks.get(row["day"] - datetime.timedelta(days=row["day"].weekday())):
            week.acceptance.add(row)
    return list(weeks.values())


# --- Drill-down: the leads behind a figure ------------------------------------------------------
@dataclass(frozen=True)
class Drill:
    title: str
    rows: QuerySet
    # How many rows, when a read model knows it (counting the rows themselves would cost far more).
    count: int | None = None


def _deadline_drill(kinds, condition: Q):
    def rows(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
        return (
            decided_deadlines(filters, now=now, kinds=kinds)
            .filter(condition)
            .select_related("lead__campaign", "owner", "handoff__claimed_by")
            .order_by("decided", "pk")
        )

    return rows


def _event_drill(kind: str, *, people: bool = False):
    def rows(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
        events = (
            LeadEvent.objects.filter(
                kind=kind, created_at__gte=filters.period.start, created_at__lt=min(filters.period.end, now)
            )
            .filter(campaign_q(filters, "lead__campaign"))
            .select_related("lead__campaign", "actor")
            .order_by("created_at", "pk")
        )
        if kind == E.RETURNED and extra.get("reason"):
            events = events.filter(data__reason=extra["reason"])
        if people and filters.by_people:
            events = events.filter(people_q(filters, "actor"))
        return events

    return rows


def _mql_drill(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
    rows = mql_qualifications(**filters.period.days).select_related("lead__campaign", "actor")
    rows = rows.order_by("created_at", "pk")
    if filters.campaign is not None or filters.channel:
        # The campaign the MQL counts for: the survivor's, for a duplicate merged into another lead.
        rows = rows.filter(counted_campaign__in=Campaign.objects.filter(campaign_q(filters, "")).values("pk"))
    return rows


def _handoff_drill(condition: Q):
    def rows(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
        return (
            acceptance_handoffs(filters, now=now)
            .filter(condition)
            .select_related("lead__campaign", "claimed_by")
            .order_by("handed_off_at", "pk")
        )

    return rows


def _won_drill(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
    deals = (
        Deal.objects.filter(stage=Deal.Stage.WON, closed_at__gte=filters.period.start, closed_at__lt=filters.period.end)
        .filter(campaign_q(filters))
        .select_related("lead__campaign", "owner")
        .order_by("closed_at", "pk")
    )
    return deals.filter(people_q(filters, "owner")) if filters.by_people else deals


def _escalation_drill(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
    return (
        escalation_steps(filters, now=now).select_related("lead__campaign", "deadline__owner").order_by("done_at", "pk")
    )


@dataclass(frozen=True)
class Figure:
    """One figure of the page and the list behind it, from one definition: `rows(filters, now, reason=…)`
    lists what is counted, `total(dashboard)` is the headline number (the tile, the funnel's total) —
    None for a figure shown only in table cells (each cell links here with its row's filter)."""

    title: str
    rows: Callable[..., QuerySet]
    total: Callable[["Dashboard"], int] | None = None


_LATE = LATE
_UNRECORDED = _LATE & Q(breached_at__isnull=True)


def _excused_drill(kinds):
    def rows(filters: Filters, now: datetime.datetime, **extra) -> QuerySet:
        return (
            excused_breaches(filters, now=now, kinds=kinds)
            .select_related("lead__campaign", "owner", "handoff__claimed_by")
            .order_by("decided", "pk")
        )

    return rows


def _late_as_ruled_drill(kinds):
    return _deadline_drill(kinds, _LATE & ~Q(pk__in=excused_deadlines()))


_DECIDED_HANDOFF = Q(claimed_at__isnull=False) | Q(closed_at__isnull=False) | Q(claim_due_passed=True)
_CLAIMED_BY_PEOPLE = Q(claimed_at__isnull=False, claimed_by_escalation=False)


def _funnel_total(attribute: str) -> Callable[["Dashboard"], int]:
    return lambda d: sum(getattr(campaign, attribute) for campaign in d.campaigns)


# The registry: every figure the page links to a list, by the key its links carry (`?figure=…`).
FIGURES: dict[str, Figure] = {
    "claims_on_time": Figure("Claims on time", _deadline_drill([K.CLAIM], ON_TIME), lambda d: d.claims.on_time),
    "claims_late": Figure("Late claims", _deadline_drill([K.CLAIM], _LATE), lambda d: d.claims.late),
    "claims_by_escalation": Figure(
        "Claimed by escalation (a lead it gave someone, by the due time)",
        _deadline_drill([K.CLAIM], BY_ESCALATION),
        lambda d: d.claims.by_escalation,
    ),
    "claims_late_by_escalation": Figure(
        "Late claims an escalation rescued (counted late, for the queue)",
        _deadline_drill([K.CLAIM], Q(met_by_escalation=True) & _LATE),
        lambda d: d.claims.late_by_escalation,
    ),
    "claims_unrecorded": Figure("Late claims the sweep has not recorded", _deadline_drill([K.CLAIM], _UNRECORDED)),
    "first_contacts_on_time": Figure(
        "First contacts on time", _deadline_drill([K.FIRST_CONTACT], ON_TIME), lambda d: d.first_contacts.on_time
    ),
    "first_contacts_late": Figure(
        "Late first contacts", _deadline_drill([K.FIRST_CONTACT], _LATE), lambda d: d.first_contacts.late
    ),
    "first_contacts_unrecorded": Figure(
        "Late first contacts the sweep has not recorded", _deadline_drill([K.FIRST_CONTACT], _UNRECORDED)
    ),
    "late_unrecorded": Figure(
        "Late claims and first contacts the sweep has not recorded",
        _deadline_drill(Deadline.SALES_KINDS, _UNRECORDED),
        lambda d: d.claims.unrecorded + d.first_contacts.unrecorded,
    ),
    "escalations": Figure(
        "Escalation steps done for sales' misses",
        _escalation_drill,
        lambda d: d.claims.escalations + d.first_contacts.escalations,
    ),
    "follow_ups_on_time": Figure(
        "Returned-lead follow-ups on time", _deadline_drill([K.FOLLOW_UP], ON_TIME), lambda d: d.follow_ups.on_time
    ),
    "follow_ups_late": Figure(
        "Late returned-lead follow-ups", _deadline_drill([K.FOLLOW_UP], _LATE), lambda d: d.follow_ups.late
    ),
    **{
        f"{figure}_excused": Figure(
            f"{title}: excused by an upheld appeal", _excused_drill([kind]), lambda d, f=figure: getattr(d, f).excused
        )
        for figure, title, kind in _RULED
    },
    **{
        f"{figure}_late_as_ruled": Figure(
            f"{title}, as ruled (excused ones left out)",
            _late_as_ruled_drill([kind]),
            lambda d, f=figure: getattr(d, f).late_as_ruled,
        )
        for figure, title, kind in _RULED
    },
    "captured": Figure("Leads captured", _event_drill(E.CAPTURED), _funnel_total("captured")),
    "mqls": Figure("MQLs: leads qualified, once a month each", _mql_drill, lambda d: d.mqls),
    "handed_off": Figure(
        "Leads marketing handed to sales (not put back in the queue)",
        _handoff_drill(Q()),
        lambda d: d.handed_off,
    ),
    # In the funnel only, which follows the campaign and channel filters alone (definition 7).
    "contacted": Figure("First contacts made", _event_drill(E.CONTACTED), _funnel_total("contacted")),
    "converted": Figure("Conversions", _event_drill(E.CONVERTED, people=True), lambda d: d.converted),
    "returns": Figure("Leads returned to marketing", _event_drill(E.RETURNED), lambda d: d.returns_total),
    "won": Figure("Deals won", _won_drill, lambda d: d.won),
    "acceptance_decided": Figure(
        "Handed off, claim window closed", _handoff_drill(_DECIDED_HANDOFF), lambda d: d.acceptance.decided
    ),
    "acceptance_claimed": Figure(
        "Handed off and claimed by a person", _handoff_drill(_CLAIMED_BY_PEOPLE), lambda d: d.acceptance.claimed
    ),
    "acceptance_kept": Figure(
        "Handed off, claimed by a person and kept",
        _handoff_drill(_CLAIMED_BY_PEOPLE & ~Q(outcome=Handoff.Outcome.RETURNED)),
        lambda d: d.acceptance.kept,
    ),
    "acceptance_not_claimed": Figure(
        "Handed off, claim window closed, never claimed", _handoff_drill(_DECIDED_HANDOFF & Q(claimed_at__isnull=True))
    ),
    "acceptance_returned": Figure(
        "Handed off, claimed, then returned",
        _handoff_drill(_CLAIMED_BY_PEOPLE & Q(outcome=Handoff.Outcome.RETURNED)),
        lambda d: d.acceptance.returned,
    ),
    "acceptance_by_escalation": Figure(
        "Handed off, then given to someone by an escalation (not claimed by anyone)",
        _handoff_drill(Q(claimed_by_escalation=True)),
        lambda d: d.acceptance.by_escalation,
    ),
    "acceptance_open": Figure(
        "Handed off, still inside the claim window (not counted)",
        _handoff_drill(~_DECIDED_HANDOFF),
        lambda d: d.acceptance.in_claim_window,
    ),
}


def drill(figure: str, *, filters: Filters, now: datetime.datetime, reason: str = "") -> Drill:
    """The rows behind `figure` (a key of FIGURES) for `filters`; KeyError for an unknown figure."""
    title, rows = FIGURES[figure].title, FIGURES[figure].rows
    if reason:
        title = f"{title}: {reason}"
    count = None
    if figure == "mqls":
        # The figure itself: telling each qualification apart from an earlier one in its month takes a
        # probe per event, fine for a page of 50, not for counting a month's tens of thousands.
        count = sum(mqls_by_campaign(**filters.period.days, where=campaign_q(filters)).values())
    return Drill(title=title, rows=rows(filters, now, reason=reason), count=count)


@dataclass(frozen=True)
class Shown:
    value: int
    href: str


def shown_figures(dashboard: "Dashboard", link: Callable[..., str]) -> dict[str, Shown]:
    """Every registered figure's headline number with the link to its list: what the tiles show."""
    return {name: Shown(figure.total(dashboard), link(name)) for name, figure in FIGURES.items() if figure.total}


# --- What needs attention now -------------------------------------------------------------------
@dataclass
class Attention:
    waiting: list[Deadline]
    waiting_count: int
    warned: list[Deadline]
    warned_count: int
    overdue: list[Deadline]
    overdue_counts: dict[str, dict[str, int]]
    sweep: object
    detection: object
    cap: int = LIVE_CAP

    @property
    def waiting_text(self) -> str:
        return _capped_text(self.waiting_count)

    @property
    def warned_text(self) -> str:
        return _capped_text(self.warned_count)


def _capped_text(count: int) -> str:
    return f"more than {LIVE_CAP}" if count > LIVE_CAP else str(count)


def _capped(deadlines: QuerySet) -> int:
    # Counted in the database (a count over the LIMIT's subquery): fetched, up to a thousand ids a count
    # crossed into Python for nothing.
    return deadlines.values("pk")[: LIVE_CAP + 1].count()


def attention_now(*, filters: Filters, now: datetime.datetime) -> Attention:
    """The live part: leads waiting in the queue (most urgent first), clocks warned and not yet due,
    and every overdue clock whether or not the sweep has recorded it, sales' and marketing's apart;
    the sweep's health. Counts stop at LIVE_CAP. Twelve queries, whatever the numbers."""
    running = (
        Deadline.objects.filter(met_at__isnull=True, cancelled_at__isnull=True)
        .filter(campaign_q(filters))
        .select_related("lead", "owner")
    )
    sales_people = Q(kind=K.FOLLOW_UP) | people_q(filters, "owner") if filters.by_people else Q()
    waiting = running.filter(kind=K.CLAIM).order_by("due_at", "pk")
    warned = (
        running.filter(sales_people, paused_at__isnull=True, warned_at__isnull=False, due_at__gt=now)
        .filter(breached_at__isnull=True)
        .order_by("due_at", "pk")
    )
    overdue = running.filter(sales_people, paused_at__isnull=True, due_at__lte=now).order_by("due_at", "pk")
    # Each count stops at LIVE_CAP: a storm of overdue clocks must not make the live part slow. The
    # follow-ups are said as "not sales' kinds" (the only other kind): `kind = 'follow_up'` lets the
    # planner AND the overdue clocks' small partial index with every follow-up's entry in
    # deadline_decided_idx (~98,000 at 1M: 40-70 ms), where filtering the few overdue rows costs 1-5.
    marketing = ~Q(kind__in=Deadline.SALES_KINDS)
    counts = {
        side: {
            "recorded": _capped(overdue.filter(kinds, breached_at__isnull=False)),
            "unrecorded": _capped(overdue.filter(kinds, breached_at__isnull=True)),
        }
        for side, kinds in ((Side.SALES, Q(kind__in=Deadline.SALES_KINDS)), (Side.MARKETING, marketing))
    }
    return Attention(
        waiting=list(waiting[:LIVE_ROWS]),
        waiting_count=_capped(waiting),
        warned=list(warned[:LIVE_ROWS]),
        warned_count=_capped(warned),
        # Recorded and not yet recorded are read apart (each from its own partial index), then merged.
        overdue=sorted(
            [
                *overdue.filter(breached_at__isnull=False)[: 2 * LIVE_ROWS],
                *overdue.filter(breached_at__isnull=True)[: 2 * LIVE_ROWS],
            ],
            key=lambda deadline: (deadline.due_at, deadline.pk),
        )[: 2 * LIVE_ROWS],
        overdue_counts=counts,
        sweep=sweep_status(now=now),
        detection=breach_detection_delay(now=now),
    )
