"""The managers' SLA dashboard figures: both sides' commitments, computed in SQL aggregates.

A constant number of queries whatever the number of leads: counts are grouped in the database,
never by looping over rows in Python.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q

from campaigns.models import Campaign
from campaigns.queries import Acceptance, acceptance_by_campaign, mqls_by_campaign
from leads.models import Lead

from .models import Deadline, Handoff, SlaPolicy
from .roles import Role
from .targets import Month

# Acceptance on the dashboard is over a rolling window: long enough for a campaign to have handed off
# leads, short enough that an old slump does not hide a recovery.
ACCEPTANCE_WINDOW = timedelta(days=90)

ON_TIME = Q(met_at__isnull=False, met_at__lte=F("due_at"), breached_at__isnull=True)


def overdue_now(now: datetime) -> Q:
    """Still running past its due time, whether or not the sweep has recorded the breach yet. A clock
    paused while the lead is on hold is not overdue: its due time moves on when the lead resumes."""
    return Q(met_at__isnull=True, cancelled_at__isnull=True, paused_at__isnull=True, due_at__lte=now)


def late(now: datetime) -> Q:
    """Missed: breached, met after its due time, or overdue now. Counting the overdue ones means a
    stopped worker cannot make the SLA look perfect."""
    return Q(breached_at__isnull=False) | Q(met_at__gt=F("due_at")) | overdue_now(now)


def attainment(on_time: int, late: int) -> float | None:
    """Share of decided deadlines met on time, in percent; None when nothing is decided yet."""
    decided = on_time + late
    return round(100 * on_time / decided, 1) if decided else None


@dataclass
class RepRow:
    rep: object
    open_leads: int = 0
    claims: int = 0
    contacts_on_time: int = 0
    contacts_late: int = 0
    overdue_now: int = 0

    @property
    def attainment(self) -> float | None:
        return attainment(self.contacts_on_time, self.contacts_late)


@dataclass
class Dashboard:
    waiting: int
    overdue_now: int
    claims: dict
    first_contacts: dict
    attainment: float | None
    follow_ups: dict
    commitments: "Commitments"
    reps: list[RepRow] = field(default_factory=list)
    late_deadlines: list[Deadline] = field(default_factory=list)


def _by_kind(now: datetime) -> dict[str, dict]:
    rows = Deadline.objects.values("kind").annotate(
        on_time=Count("id", filter=ON_TIME),
        late=Count("id", filter=late(now)),
        breached=Count("id", filter=Q(breached_at__isnull=False)),
        overdue_now=Count("id", filter=overdue_now(now)),
        running=Count("id", filter=Q(met_at__isnull=True, cancelled_at__isnull=True)),
    )
    empty = {"on_time": 0, "late": 0, "breached": 0, "overdue_now": 0, "running": 0}
    figures = {kind: dict(empty) for kind in Deadline.Kind.values}
    for row in rows:
        figures[row["kind"]] = {key: row[key] for key in empty}
    for kind_figures in figures.values():
        kind_figures["attainment"] = attainment(kind_figures["on_time"], kind_figures["late"])
    return figures


def _rep_rows(now: datetime) -> list[RepRow]:
    reps = get_user_model().objects.filter(groups__name=Role.SALES, is_active=True).order_by("first_name", "username")
    rows = {rep.pk: RepRow(rep=rep) for rep in reps}
    open_leads = (
        Lead.objects.filter(owner__in=rows, status__in=Lead.WORKED_BY_SALES).values("owner").annotate(n=Count("id"))
    )
    for row in open_leads:
        rows[row["owner"]].open_leads = row["n"]
    for row in Handoff.objects.filter(claimed_by__in=rows).values("claimed_by").annotate(n=Count("id")):
        rows[row["claimed_by"]].claims = row["n"]
    contacts = (
        Deadline.objects.filter(kind=Deadline.Kind.FIRST_CONTACT, owner__in=rows)
        .values("owner")
        .annotate(
            on_time=Count("id", filter=ON_TIME),
            late=Count("id", filter=late(now)),
            overdue_now=Count("id", filter=overdue_now(now)),
        )
    )
    for row in contacts:
        rep_row = rows[row["owner"]]
        rep_row.contacts_on_time, rep_row.contacts_late, rep_row.overdue_now = (
            row["on_time"],
            row["late"],
            row["overdue_now"],
        )
    return list(rows.values())


@dataclass(frozen=True)
class CampaignCommitment:
    """One campaign's side of the agreement: MQLs this month against its target, and the share of its
    leads sales accepted over the ACCEPTANCE_WINDOW against the policy's target."""

    campaign: Campaign
    mqls: int
    month_gone: float
    acceptance: Acceptance
    acceptance_target: int

    @property
    def mql_percent(self) -> float | None:
        """MQLs so far as a share of the month's target, in percent; None without a target."""
        target = self.campaign.target_mqls_per_month
        return round(100 * self.mqls / target, 1) if target else None

    @property
    def on_pace(self) -> bool | None:
        """Whether MQLs keep up with the share of the month gone; None without a target."""
        return None if self.mql_percent is None else self.mql_percent >= self.month_gone

    @property
    def below_acceptance_target(self) -> bool:
        return self.acceptance.rate is not None and self.acceptance.rate < self.acceptance_target


@dataclass(frozen=True)
class Commitments:
    month: Month
    month_gone: float
    acceptance_target: int
    campaigns: list[CampaignCommitment]


def campaign_commitments(*, now: datetime) -> Commitments:
    """Each campaign not archived, with its commitments as of `now` (see CampaignCommitment). Four
    queries, whatever the number of campaigns."""
    month = Month.of(now)
    month_gone = month.share_gone(now)
    acceptance_target = SlaPolicy.current().acceptance_target_percent
    live = Campaign.objects.exclude(status=Campaign.Status.ARCHIVED)
    mqls = mqls_by_campaign(start=month.start, end=month.end, campaigns=live)
    accepted = acceptance_by_campaign(start=now - ACCEPTANCE_WINDOW, end=now, campaigns=live)
    rows = [
        CampaignCommitment(
            campaign=campaign,
            mqls=mqls.get(campaign.pk, 0),
            month_gone=month_gone,
            acceptance=accepted.get(campaign.pk, Acceptance()),
            acceptance_target=acceptance_target,
        )
        for campaign in live.select_related("owner").order_by("name", "pk")
    ]
    return Commitments(month=month, month_gone=month_gone, acceptance_target=acceptance_target, campaigns=rows)


def sla_dashboard(*, now: datetime) -> Dashboard:
    """Everything the dashboard shows, as of `now`."""
    kinds = _by_kind(now)
    claims, contacts = kinds[Deadline.Kind.CLAIM], kinds[Deadline.Kind.FIRST_CONTACT]
    late_deadlines = list(
        Deadline.objects.filter(overdue_now(now))
        .select_related("lead", "lead__campaign", "owner")
        .order_by("due_at")[:20]
    )
    return Dashboard(
        waiting=Lead.objects.filter(status=Lead.Status.HANDED_OFF).count(),
        overdue_now=claims["overdue_now"] + contacts["overdue_now"],
        claims=claims,
        first_contacts=contacts,
        attainment=attainment(claims["on_time"] + contacts["on_time"], claims["late"] + contacts["late"]),
        follow_ups=kinds[Deadline.Kind.FOLLOW_UP],
        commitments=campaign_commitments(now=now),
        reps=_rep_rows(now),
        late_deadlines=late_deadlines,
    )
