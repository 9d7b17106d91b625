"""The dashboard's headline band: the few figures a head of sales or of marketing opens the page for
(are we on time this period, is it getting better, who is late now), each rate beside the same rate of
the period before.

Presentation only: every figure is one the page already shows, or the same figure for the previous
period read through the very functions the page's own figures come from (`deadline_outcomes`,
`acceptance_rows`), so a headline never means something else than its tile further down.
"""

import datetime
from dataclasses import dataclass

from django.core.cache import cache

from leads.targets import add_months
from reporting.dashboard import (
    TRENDS_CACHE_SECONDS,
    Acceptance,
    Attention,
    Clock,
    Dashboard,
    Filters,
    Period,
    Side,
    acceptance_rows,
    deadline_outcomes,
)
from reporting.dashboard_tables import percent_text
from sla.models import Deadline

K = Deadline.Kind


def previous_period(period: Period) -> Period:
    """The period just before `period`, as long: the month (or quarter, or run of whole months) before
    a run of whole months, else as many days ending the day before it starts."""
    months = (period.last_day.year - period.first_day.year) * 12 + period.last_day.month - period.first_day.month + 1
    whole_months = period.first_day.day == 1 and period.last_day == add_months(
        period.first_day, months
    ) - datetime.timedelta(days=1)
    if whole_months:
        first = add_months(period.first_day, -months)
        return Period("previous", first, period.first_day - datetime.timedelta(days=1))
    length = period.last_day - period.first_day
    last = period.first_day - datetime.timedelta(days=1)
    return Period("previous", last - length, last)


@dataclass(frozen=True)
class Trend:
    """A rate (per cent) now and in the previous period, as an arrow and words."""

    current: float | None
    previous: float | None
    previous_label: str

    @property
    def points(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1)

    @property
    def direction(self) -> str:
        """Up, down or same; empty when either period has no rate to compare."""
        if self.points is None:
            return ""
        return "up" if self.points > 0 else "down" if self.points < 0 else "same"

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "same": "▶"}.get(self.direction, "")

    @property
    def text(self) -> str:
        if self.direction == "":
            return f"nothing to compare in {self.previous_label}"
        if self.direction == "same":
            return f"as in {self.previous_label}"
        return f"{abs(self.points):g} pts vs {self.previous_label} ({percent_text(self.previous)})"


@dataclass(frozen=True)
class Tile:
    """One headline figure: its text, the leads behind it, what it means (shown one click away), its
    trend, and whether it is a problem now (the only thing the band paints red)."""

    label: str
    value: str
    definition: str
    href: str = ""
    trend: Trend | None = None
    problem: bool = False


@dataclass(frozen=True)
class Headline:
    sales: list[Tile]
    marketing: list[Tile]
    previous: Period


# What each headline figure means, shown behind its "?"; the same words as the tiles further down.
DEFINITIONS = {
    "Claim attainment": "Claims on time ÷ (on time + late) in the period: claim deadlines a person met by their due "
    "time, against those that fell due unmet in the queue. The escalation's claims count in neither.",
    "First-contact attainment": "First contacts on time ÷ (on time + late): first-contact deadlines met by their "
    "due time, against those that fell due unmet.",
    "Sales late now": "Claims and first contacts past their due time right now, recorded by the sweep or not, "
    "whatever the period. The list is under “Needs attention now”.",
    "Acceptance": "Of marketing's hand-offs in the period whose claim window has closed, the share sales claimed "
    "and kept (not returned). Those still inside their claim window are not counted.",
    "Returned-lead follow-up": "Returned leads marketing re-nurtured or disqualified within the policy's business "
    "days ÷ follow-up deadlines decided in the period.",
    "Follow-ups late now": "Returned-lead follow-ups past their due time right now, whatever the period. The list "
    "is under “Needs attention now”.",
}


def late_now_tile(label: str, counts: dict[str, int], cap: int) -> Tile:
    """Overdue clocks of one side now (each count of the live part stops past `cap`); red when any."""
    recorded, unrecorded = counts["recorded"], counts["unrecorded"]
    capped = recorded > cap or unrecorded > cap
    total = recorded + unrecorded
    text = f"more than {cap}" if capped else str(total)
    return Tile(label, text, DEFINITIONS[label], href="#title-live", problem=total > 0)


def cached_previous_rates(filters: Filters, *, now: datetime.datetime) -> tuple[dict, Acceptance]:
    """`previous_rates`, kept in the cache for TRENDS_CACHE_SECONDS per filters, like the weekly trends:
    the period before has ended, and reading it costs as much as reading the period itself."""
    before = previous_period(filters.period)
    key = "dashboard-previous:" + filters.query(start=before.first_day.isoformat(), end=before.last_day.isoformat())
    return cache.get_or_set(key, lambda: previous_rates(filters, now=now), TRENDS_CACHE_SECONDS)


def previous_rates(filters: Filters, *, now: datetime.datetime) -> tuple[dict, Acceptance]:
    """The clocks (by kind) and acceptance of the period before `filters.period`, with the same filters:
    three queries at most, whatever the rows."""
    before = Filters(
        period=previous_period(filters.period),
        team=filters.team,
        rep=filters.rep,
        campaign=filters.campaign,
        channel=filters.channel,
    )
    clocks = {kind: Clock() for kind in K.values}
    for row in deadline_outcomes(before, now=now, by=("kind",)):
        clocks[row["kind"]].add(row)
    acceptance = Acceptance()
    for row in acceptance_rows(before, now=now, by="campaign"):
        acceptance.add(row)
    return clocks, acceptance


def headline(dashboard: Dashboard, attention: Attention, links: dict[str, str], *, now: datetime.datetime) -> Headline:
    """The band for `dashboard` (its filters and period) and the live part's `attention`."""
    d = dashboard
    previous = previous_period(d.filters.period)
    clocks, acceptance = cached_previous_rates(d.filters, now=now)

    def rate_tile(label: str, current: float | None, before: float | None, figure: str) -> Tile:
        trend = Trend(current, before, previous.label)
        return Tile(label, percent_text(current), DEFINITIONS[label], href=links[figure], trend=trend)

    sales = [
        rate_tile("Claim attainment", d.claims.attainment, clocks[K.CLAIM].attainment, "claims_late"),
        rate_tile(
            "First-contact attainment",
            d.first_contacts.attainment,
            clocks[K.FIRST_CONTACT].attainment,
            "first_contacts_late",
        ),
        late_now_tile("Sales late now", attention.overdue_counts[Side.SALES], attention.cap),
    ]
    marketing = [
        rate_tile("Acceptance", d.acceptance.kept_rate, acceptance.kept_rate, "acceptance_kept"),
        rate_tile(
            "Returned-lead follow-up", d.follow_ups.attainment, clocks[K.FOLLOW_UP].attainment, "follow_ups_late"
        ),
        late_now_tile("Follow-ups late now", attention.overdue_counts[Side.MARKETING], attention.cap),
    ]
    return Headline(sales=sales, marketing=marketing, previous=previous)
