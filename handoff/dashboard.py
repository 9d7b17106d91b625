"""The managers' SLA dashboard figures: both sides' commitments, computed in SQL aggregates.

A constant number of queries whatever the number of leads: counts are grouped in the database,
never by looping over rows in Python.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q

from leads.models import Lead

from .models import Deadline, Handoff
from .roles import Role

ON_TIME = Q(met_at__isnull=False, met_at__lte=F("due_at"), breached_at__isnull=True)


def overdue_now(now: datetime) -> Q:
    """Still running past its due time, whether or not the sweep has recorded the breach yet."""
    return Q(met_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now)


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
    reps: list[RepRow] = field(default_factory=list)
    late_deadlines: list[Deadline] = field(default_factory=list)


def _by_kind(now: datetime) -> dict[str, dict]:
    rows = Deadline.objects.values("kind").annotate(
        on_time=Count("id", filter=ON_TIME),
        late=Count("id", filter=late(now)),
        breached=Count("id", filter=Q(breached_at__isnull=False)),
        overdue_now=Count("id", filter=overdue_now(now)),
    )
    empty = {"on_time": 0, "late": 0, "breached": 0, "overdue_now": 0}
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


def sla_dashboard(*, now: datetime) -> Dashboard:
    """Everything the dashboard shows, as of `now`."""
    kinds = _by_kind(now)
    claims, contacts = kinds[Deadline.Kind.CLAIM], kinds[Deadline.Kind.FIRST_CONTACT]
    late_deadlines = list(
        Deadline.objects.running()
        .filter(due_at__lte=now)
        .select_related("lead", "lead__campaign", "owner")
        .order_by("due_at")[:20]
    )
    return Dashboard(
        waiting=Lead.objects.filter(status=Lead.Status.HANDED_OFF).count(),
        overdue_now=claims["overdue_now"] + contacts["overdue_now"],
        claims=claims,
        first_contacts=contacts,
        attainment=attainment(claims["on_time"] + contacts["on_time"], claims["late"] + contacts["late"]),
        reps=_rep_rows(now),
        late_deadlines=late_deadlines,
    )
