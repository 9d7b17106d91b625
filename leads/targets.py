"""Monthly sales targets: month arithmetic, attainment figures and the service that sets targets.

A month is the calendar month in the configured time zone (settings.TIME_ZONE), never the viewer's
nor UTC's: with Europe/Berlin, a deal won at 00:10 on 1 April is an April deal for everyone who looks,
although UTC still says 31 March. Months are passed around as the date of their first day.

A deal counts towards a month when it is won and its `closed_at` falls inside the month. Values are
summed as entered: Handoff assumes sales sells in one currency, as targets carry no currency.
Lost and still open deals never count.

The department's figures are the deals won by everyone in the Sales role, including reps who have
left since (is_active off): a rep's departure does not take their wins out of months already closed.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DateField, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from common.daterange import EARLIEST_DAY, LATEST_DAY
from people.roles import Role, has_role

from .models import Deal, MonthlyTarget
from .reps import reps_order

ZERO = Decimal("0.00")
# Keeps the previous and next month of any month that parses inside the calendar datetime.date knows.
_MONTH_PARAM = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")


# ---- Month arithmetic (pure) -----------------------------------------------------------------


def _zone():
    # The configured zone, not the activated one: a month's figures must not depend on who looks.
    return timezone.get_default_timezone()


def month_start(day: datetime.date) -> datetime.date:
    """The first day of the month `day` falls in; an aware datetime is read in the configured time zone."""
    if isinstance(day, datetime.datetime):
        day = timezone.localdate(day, _zone())
    return day.replace(day=1)


def add_months(month: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or, negative, before) the month of `month`."""
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return datetime.date(year, index + 1, 1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as a half-open interval [start, end) of aware datetimes in the configured time zone."""
    first = month_start(month)

    def midnight(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=_zone())

    return midnight(first), midnight(add_months(first, 1))


def days_in_month(month: datetime.date) -> int:
    return (add_months(month, 1) - month_start(month)).days


def days_left(month: datetime.date, now: datetime.datetime) -> int:
    """Days of `month` still to come on `now`, today included: the whole month for a future month, 0 once it
    has ended. Refuses a naive `now`."""
    if timezone.is_naive(now):
        raise ValueError("days_left needs an aware datetime.")
    first, today = month_start(month), timezone.localdate(now, _zone())
    if today < first:
        return days_in_month(first)
    last = add_months(first, 1) - datetime.timedelta(days=1)
    return max((last - today).days + 1, 0)


def parse_month(value: str) -> datetime.date | None:
    """The month written as YYYY-MM, or None when `value` is not one."""
    match = _MONTH_PARAM.fullmatch(value.strip())
    if match is None:
        return None
    year, month = int(match["year"]), int(match["month"])
    if not (EARLIEST_DAY.year <= year <= LATEST_DAY.year and 1 <= month <= 12):
        return None
    return datetime.date(year, month, 1)


# ---- Attainment -----------------------------------------------------------------------------


def _percent(won, target) -> int | None:
    """Whole percent of `target` reached, rounded down so 100 % means met; None without a target."""
    if not target:
        return None
    return int(won * 100 // target)


@dataclass(frozen=True)
class Attainment:
    """One measure (deals won or revenue) against its target, for a progress bar."""

    won: int | Decimal
    target: int | Decimal | None
    pct: int | None

    @property
    def bar(self) -> int:
        return min(self.pct or 0, 100)

    @property
    def met(self) -> bool:
        return self.pct is not None and self.pct >= 100

    @property
    def to_go(self) -> int | Decimal:
        return max((self.target or 0) - self.won, 0)


@dataclass(frozen=True)
class Progress:
    """A month's won deals and revenue against a target. A target of None (never set) or 0 means no target,
    and its percent is None."""

    target_deals: int | None
    target_revenue: Decimal | None
    won_deals: int
    won_revenue: Decimal
    pct_deals: int | None
    pct_revenue: int | None
    days_left: int

    @property
    def deals(self) -> Attainment:
        return Attainment(self.won_deals, self.target_deals, self.pct_deals)

    @property
    def revenue(self) -> Attainment:
        return Attainment(self.won_revenue, self.target_revenue, self.pct_revenue)


def _progress(target: MonthlyTarget | None, *, won_deals: int, won_revenue: Decimal | None, days: int) -> Progress:
    target_deals = target.deals_won if target else None
    target_revenue = target.revenue if target else None
    won_revenue = won_revenue or ZERO
    return Progress(
        target_deals=target_deals,
        target_revenue=target_revenue,
        won_deals=won_deals,
        won_revenue=won_revenue,
        pct_deals=_percent(won_deals, target_deals),
        pct_revenue=_percent(won_revenue, target_revenue),
        days_left=days,
    )


def _won_in(month: datetime.date):
    start, end = month_bounds(month)
    return Deal.objects.filter(stage=Deal.Stage.WON, closed_at__gte=start, closed_at__lt=end)


def _sales_people():
    """Everyone in the Sales role, active or not (see the module docstring)."""
    return get_user_model().objects.filter(groups__name=Role.SALES)


def _totals(deals) -> tuple[int, Decimal | None]:
    totals = deals.aggregate(count=Count("id"), revenue=Sum("value"))
    return totals["count"], totals["revenue"]


def rep_progress(*, rep, month: datetime.date, now: datetime.datetime) -> Progress:
    """`rep`'s won deals and revenue in `month` against their personal target. Two queries."""
    month = month_start(month)
    won_deals, won_revenue = _totals(_won_in(month).filter(owner=rep))
    target = MonthlyTarget.objects.filter(month=month, rep=rep).first()
    return _progress(target, won_deals=won_deals, won_revenue=won_revenue, days=days_left(month, now))


def department_progress(*, month: datetime.date, now: datetime.datetime) -> Progress:
    """Sales' won deals and revenue in `month` against the department target. Two queries."""
    month = month_start(month)
    won_deals, won_revenue = _totals(_won_in(month).filter(owner__in=_sales_people()))
    target = MonthlyTarget.objects.filter(month=month, rep__isnull=True).first()
    return _progress(target, won_deals=won_deals, won_revenue=won_revenue, days=days_left(month, now))


def month_reps(month: datetime.date):
    """The people a month's targets are listed for: the active Sales reps, and those who have left since but
    had a target or a won deal that month (so past months keep their people). Unordered."""
    month = month_start(month)
    return _sales_people().filter(
        Q(is_active=True)
        | Exists(MonthlyTarget.objects.filter(month=month, rep=OuterRef("pk")))
        | Exists(_won_in(month).filter(owner=OuterRef("pk")))
    )


def month_overview(*, month: datetime.date, now: datetime.datetime, reps=None) -> list[tuple]:
    """Each rep's progress in `month`: of `reps` (a page of `month_reps`, in its order), else of every one of
    `month_reps` by team and name. Three queries (two with `reps` given as a list), whatever the number of reps and
    deals."""
    month = month_start(month)
    if reps is None:
        reps = month_reps(month).order_by(*reps_order(to_team="rep_profile__team"))
    reps = list(reps)
    targets = {target.rep_id: target for target in MonthlyTarget.objects.filter(month=month, rep__in=reps)}
    totals = {
        row["owner"]: row
        for row in _won_in(month)
        .filter(owner__in=reps)
        .values("owner")
        .annotate(count=Count("id"), revenue=Sum("value"))
    }
    days = days_left(month, now)
    overview = []
    for rep in reps:
        row = totals.get(rep.pk, {})
        progress = _progress(
            targets.get(rep.pk), won_deals=row.get("count", 0), won_revenue=row.get("revenue"), days=days
        )
        overview.append((rep, progress))
    return overview


def rep_history(*, rep, now: datetime.datetime, months: int = 12) -> list[tuple[datetime.date, Progress]]:
    """`rep`'s progress this month and in each of the `months` before it, newest first. Two queries."""
    current = month_start(now)
    first = add_months(current, -months)
    start, end = month_bounds(first)[0], month_bounds(current)[1]
    targets = {
        target.month: target for target in MonthlyTarget.objects.filter(rep=rep, month__gte=first, month__lte=current)
    }
    totals = {
        row["month"]: row
        for row in Deal.objects.filter(owner=rep, stage=Deal.Stage.WON, closed_at__gte=start, closed_at__lt=end)
        .annotate(month=TruncMonth("closed_at", output_field=DateField(), tzinfo=_zone()))
        .values("month")
        .annotate(count=Count("id"), revenue=Sum("value"))
    }
    history = []
    for back in range(months + 1):
        month = add_months(current, -back)
        row = totals.get(month, {})
        progress = _progress(
            targets.get(month),
            won_deals=row.get("count", 0),
            won_revenue=row.get("revenue"),
            days=days_left(month, now),
        )
        history.append((month, progress))
    return history


@dataclass(frozen=True)
class HomeTargets:
    """What a rep's home page shows: this month's progress towards their own and the department's target."""

    month: datetime.date
    mine: Progress
    department: Progress

    @property
    def days_left(self) -> int:
        return self.mine.days_left


def home_targets(rep, now: datetime.datetime) -> HomeTargets:
    """This month's targets for `rep`'s home page (templates/leads/_target_progress.html). Four queries."""
    month = month_start(now)
    return HomeTargets(
        month=month,
        mine=rep_progress(rep=rep, month=month, now=now),
        department=department_progress(month=month, now=now),
    )


# ---- Setting targets ------------------------------------------------------------------------


def target_set(*, month: datetime.date, rep, deals_won: int, revenue: Decimal, actor) -> MonthlyTarget:
    """Set the department's target (rep None) or a sales rep's for the month `month` falls in, replacing the
    one already set. Managers only: anyone else gets PermissionDenied. Values that do not fit a target
    (negative, fractional deals, more than two decimals) raise ValidationError, saving nothing."""
    if not has_role(actor, Role.MANAGERS):
        raise PermissionDenied("Only managers set targets.")
    if rep is not None and not has_role(rep, Role.SALES):
        raise ValidationError("Targets are for sales reps.")
    month = month_start(month)
    target = MonthlyTarget(month=month, rep=rep, deals_won=deals_won, revenue=revenue, set_by=actor)
    # rep and set_by are checked above; the database keeps the month and uniqueness constraints.
    target.full_clean(exclude=["rep", "set_by"], validate_unique=False, validate_constraints=False)
    if target.revenue < 0:
        raise ValidationError({"revenue": "Revenue cannot be negative."})
    target, _ = MonthlyTarget.objects.update_or_create(
        month=month,
        rep=rep,
        defaults={"deals_won": target.deals_won, "revenue": target.revenue, "set_by": actor},
    )
    return target


def targets_set_bulk(*, month: datetime.date, targets: list[tuple], actor) -> list[MonthlyTarget]:
    """Set a month's targets from (rep or None, deals_won, revenue) rows, all or none. Rows equal to what is
    stored (or 0 and 0 where nothing is) are left alone, so `set_by` keeps naming who really set them.
    Returns the targets that changed."""
    if not has_role(actor, Role.MANAGERS):
        raise PermissionDenied("Only managers set targets.")
    month = month_start(month)
    with transaction.atomic():
        stored = {
            target.rep_id: (target.deals_won, target.revenue)
            for target in MonthlyTarget.objects.filter(month=month).select_for_update()
        }
        changed = []
        for rep, deals_won, revenue in targets:
            if stored.get(rep.pk if rep else None, (0, ZERO)) == (deals_won, revenue):
                continue
            changed.append(target_set(month=month, rep=rep, deals_won=deals_won, revenue=revenue, actor=actor))
    return changed
