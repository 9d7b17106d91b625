"""Reads marketing's pages share, computed in SQL aggregates.

Every figure here costs a fixed number of queries, whatever the number of campaigns or leads: counts
are grouped in the database, never by looping over rows in Python.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from leads.models import (
    CampaignMilestone,
    CampaignMonthMqls,
    CampaignRevenue,
    CampaignTally,
    EventCount,
    Lead,
    LeadEvent,
)
from leads.tally import InFamilyOf, LeadRoot, tally_of
from leads.targets import add_months
from sla.models import Deadline, Handoff

from .models import Campaign

S = Lead.Status
PASSED_TO_SALES = [S.HANDED_OFF, *Lead.WORKED_BY_SALES, S.CONVERTED, S.RETURNED]
LIVE = [status for status in S.values if status != S.MERGED]

# The list's sort keys and what each orders by; only these ever reach order_by. The id breaks ties
# so a page boundary never shows a campaign twice or skips one.
CAMPAIGN_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "-start_date": ("Newest start first", ("-start_date", "name", "-id")),
    "start_date": ("Oldest start first", ("start_date", "name", "id")),
    "name": ("Name A–Z", ("name", "id")),
    "-name": ("Name Z–A", ("-name", "-id")),
    "-budget": ("Largest budget first", ("-budget", "name", "id")),
    "budget": ("Smallest budget first", ("budget", "name", "id")),
    "-spend": ("Largest spend first", ("-actual_spend", "name", "id")),
    "spend": ("Smallest spend first", ("actual_spend", "name", "id")),
    "-leads": ("Most leads first", ("-lead_count", "name", "id")),
    "leads": ("Fewest leads first", ("lead_count", "name", "id")),
    "-converted": ("Most converted first", ("-converted_count", "name", "id")),
    "converted": ("Fewest converted first", ("converted_count", "name", "id")),
}
DEFAULT_SORT = "-start_date"

# Status filter values beyond the statuses themselves: the default hides archived campaigns.
NOT_ARCHIVED = ""
ANY_STATUS = "any"

MONTHS_SHOWN = 12


def campaign_list(
    *,
    search: str = "",
    channel: str = "",
    status: str = NOT_ARCHIVED,
    owner=None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    sort: str = DEFAULT_SORT,
) -> QuerySet[Campaign]:
    """Campaigns matching the filters, each with its number of leads, leads passed to sales and
    conversions. `date_from`/`date_to` keep the campaigns running at some point in that range (an
    open-ended campaign runs until today and beyond). Raises KeyError for a sort not in CAMPAIGN_SORTS."""
    ordering = CAMPAIGN_SORTS[sort][1]
    campaigns = Campaign.objects.select_related("owner")
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    if channel:
        campaigns = campaigns.filter(channel=channel)
    if status == NOT_ARCHIVED:
        campaigns = campaigns.exclude(status=Campaign.Status.ARCHIVED)
    elif status != ANY_STATUS:
        campaigns = campaigns.filter(status=status)
    if owner is not None:
        campaigns = campaigns.filter(owner=owner)
    if date_to is not None:
        campaigns = campaigns.filter(start_date__lte=date_to)
    if date_from is not None:
        campaigns = campaigns.filter(Q(end_date__gte=date_from) | Q(end_date__isnull=True))
    # From the campaigns' tallies (`leads.tally`): a few rows per campaign, whatever its number of leads
    # and reps (`LeadTally` has a row per owner too: ~1,600 per campaign with 400 reps).
    mine = Q(campaign=OuterRef("pk"))
    return campaigns.annotate(
        lead_count=tally_of(where=mine, statuses=LIVE, model=CampaignTally),
        handed_off_count=tally_of(where=mine, statuses=PASSED_TO_SALES, model=CampaignTally),
        converted_count=tally_of(where=mine, statuses=[S.CONVERTED], model=CampaignTally),
    ).order_by(*ordering)


def _per(amount: Decimal, count: int) -> Decimal | None:
    """What each one cost; None (shown as a dash) when there is nothing to divide by."""
    return (amount / count).quantize(Decimal("0.01")) if count else None


def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(100 * float(part) / float(whole), 1) if whole else None


# --- MQLs, one count for the campaign page's months, the monthly target check and the managers'
# dashboard: a live lead counts once in each month of the site's zone (settings.TIME_ZONE) it was
# qualified in, on the first day it was qualified in that month; read from `CampaignMonthMqls`.


def mqls_by_campaign(*, first_day: datetime.date, last_day: datetime.date, where: Q | None = None) -> dict[int, int]:
    """MQLs each campaign made on the days `first_day` to `last_day` (site's zone, both included), by
    campaign id (none: missing); `where` filters the read model's rows (e.g. by campaign). One query over a
    row per campaign and day, whatever the number of leads."""
    rows = CampaignMonthMqls.objects.filter(day__gte=first_day, day__lte=last_day)
    if where is not None:
        rows = rows.filter(where)
    return dict(rows.values("campaign").annotate(mqls=Sum("leads")).values_list("campaign", "mqls").order_by())


def mql_qualifications(*, first_day: datetime.date, last_day: datetime.date) -> QuerySet[LeadEvent]:
    """The QUALIFIED events behind `mqls_by_campaign` for those days, each the first of its month (site's
    zone) in its lead's family: a duplicate merged into another lead leaves its MQLs to the survivor (the
    family's root), which counts once a month, in its campaign (`counted_campaign`). For listing the
    leads behind the figure; counts come from the read model."""
    zone = timezone.get_default_timezone()
    start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    earlier_that_month = LeadEvent.objects.filter(
        Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk")),
        InFamilyOf("lead_id", OuterRef("root")),
        kind=LeadEvent.Kind.QUALIFIED,
        created_at__gte=OuterRef("month_start"),
    )
    live_root = Lead.objects.filter(pk=OuterRef("root")).exclude(status=S.MERGED)
    return (
        LeadEvent.objects.filter(kind=LeadEvent.Kind.QUALIFIED, created_at__gte=start, created_at__lt=end)
        .annotate(root=LeadRoot("lead_id"), month_start=TruncMonth("created_at", tzinfo=zone))
        .annotate(counted_campaign=Subquery(live_root.values("campaign")))
        .filter(counted_campaign__isnull=False)
        .exclude(Exists(earlier_that_month))
    )


def acceptance_counts() -> dict[str, Count]:
    """Over a set of handoffs: the leads handed off, and those sales accepted (claimed at least once by a
    person: a rep, a manager's assignment or the round-robin; not a lead only an escalation gave away).
    A lead handed off twice counts once."""
    claimed_by_people = Q(
        deadlines__kind=Deadline.Kind.CLAIM, deadlines__met_at__isnull=False, deadlines__met_by_escalation=False
    )
    return {
        "handed_off": Count("lead", distinct=True),
        "accepted": Count("lead", distinct=True, filter=claimed_by_people),
    }


@dataclass(frozen=True)
class Acceptance:
    handed_off: int = 0
    accepted: int = 0

    @property
    def rate(self) -> float | None:
        """Share of the handed-off leads sales accepted, in percent; None when none were handed off."""
        return _rate(self.accepted, self.handed_off)


def acceptance_by_campaign(
    *, start: datetime.datetime, end: datetime.datetime, campaigns: QuerySet[Campaign] | None = None
) -> dict[int, Acceptance]:
    """Per campaign id, the live leads marketing handed off from `start` to `end` and how many of those
    sales accepted (campaigns with no handoff then are missing). A lead put back in the queue is not
    handed off again. One query."""
    handoffs = Handoff.objects.filter(
        source=Handoff.Source.HAND_OFF, handed_off_at__gte=start, handed_off_at__lt=end
    ).exclude(lead__status=S.MERGED)
    if campaigns is not None:
        handoffs = handoffs.filter(lead__campaign__in=campaigns)
    rows = handoffs.order_by().values("lead__campaign").annotate(**acceptance_counts())
    return {row["lead__campaign"]: Acceptance(row["handed_off"], row["accepted"]) for row in rows}


@dataclass(frozen=True)
class MonthMqls:
    """One calendar month (in the site's time zone, settings.TIME_ZONE) of a campaign: MQLs made against the target."""

    month: datetime.date
    mqls: int
    target: int

    @property
    def percent_of_target(self) -> float | None:
        return _rate(self.mqls, self.target)

    @property
    def target_met(self) -> bool | None:
        return None if not self.target else self.mqls >= self.target


@dataclass(frozen=True)
class CampaignResults:
    """What a campaign achieved. Every count is of the campaign's live leads (those it captured
    first, `Lead.campaign`, leaving out duplicates merged into another lead: their survivor counts).

    - captured: those leads.
    - mqls: leads with a QUALIFIED event, whether marked by hand or automatically by their score,
      and whatever became of them later (a lead qualified, handed off and converted is one MQL; one
      qualified twice after being re-nurtured is still one).
    - handed_off / accepted / returned: leads with at least one handoff / one claimed handoff (by a
      rep, a manager's assignment or the round-robin) / one handoff that ended returned to marketing.
    - returned_by_reason: (reason, leads) for the returns; a lead returned twice for two different
      reasons appears under each.
    - converted: leads turned into a deal; won_deals and won_revenue: those deals now won.
    - breaches: (deadline kind, breached deadlines) for the SLA deadlines on the campaign's leads.
    - mqls_by_month: each month the campaign has run or had leads or MQLs in (after its end date
      too), up to the last MONTHS_SHOWN, with its MQLs (`mqls_by_campaign`'s count: a lead once a
      month, in each month of the site's zone it was qualified in, so the months can add up to more
      than `mqls`).
    """

    captured: int
    merged: int
    mqls: int
    handed_off: int
    accepted: int
    returned: int
    returned_by_reason: list[tuple[str, int]]
    converted: int
    won_deals: int
    won_revenue: Decimal
    spend: Decimal
    breaches: list[tuple[str, int]]
    breached_leads: int
    by_status: list[tuple[str, int]]
    mqls_by_month: list[MonthMqls]
    target_mqls_per_month: int

    @property
    def cost_per_lead(self) -> Decimal | None:
        return _per(self.spend, self.captured)

    @property
    def cost_per_mql(self) -> Decimal | None:
        return _per(self.spend, self.mqls)

    @property
    def cost_per_won_deal(self) -> Decimal | None:
        return _per(self.spend, self.won_deals)

    @property
    def roi(self) -> float | None:
        """Return on the money spent, in percent: (won revenue − spend) / spend."""
        return _rate(self.won_revenue - self.spend, self.spend)

    @property
    def acceptance_rate(self) -> float | None:
        """Share of the leads handed to sales that sales accepted (claimed), in percent."""
        return Acceptance(handed_off=self.handed_off, accepted=self.accepted).rate

    @property
    def breach_total(self) -> int:
        return sum(count for _, count in self.breaches)


def _months(campaign: Campaign, today: datetime.date, active: list[datetime.date]) -> list[datetime.date]:
    """First days of the months the campaign has run so far and of every month with its leads or MQLs
    in it (`active`: days; leads keep coming after the end date), the last MONTHS_SHOWN of them."""
    last_day = min(campaign.end_date or today, today)
    ends = [day.replace(day=1) for day in active if day <= today]
    if campaign.start_date <= last_day:
        ends += [campaign.start_date.replace(day=1), last_day.replace(day=1)]
    if not ends:
        return []
    first, months = min(ends), [max(ends)]
    while len(months) < MONTHS_SHOWN and months[-1] > first:
        months.append(add_months(months[-1], -1))
    return months[::-1]


def _mqls_by_month(campaign: Campaign, today: datetime.date, captured: list[datetime.date]) -> list[MonthMqls]:
    """MQLs per month of the site's zone (settings.TIME_ZONE) over the months the campaign ran or had
    leads (`captured`: the days of its first and last) or MQLs in, from the read model
    (`CampaignMonthMqls`: a few rows per campaign, whatever its number of leads)."""
    counted = dict(
        CampaignMonthMqls.objects.filter(campaign=campaign)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(mqls=Sum("leads"))
        .filter(mqls__gt=0)
        .values_list("month", "mqls")
        .order_by()
    )
    months = _months(campaign, today, [*counted, *captured])
    target = campaign.target_mqls_per_month
    return [MonthMqls(month=month, mqls=counted.get(month, 0), target=target) for month in months]


# A campaign's leads per status and per milestone reached, from the read models (`leads.tally`).
CAMPAIGN_TALLIES = """
SELECT 'status', status, SUM(leads) FROM leads_leadtally WHERE campaign_id = %(campaign)s GROUP BY status
UNION ALL
SELECT 'milestone', milestone, leads FROM leads_campaignmilestone WHERE campaign_id = %(campaign)s
UNION ALL
-- The span of its leads (epoch seconds), from the two ends of the (campaign, created_at) index.
SELECT 'span', 'first', EXTRACT(EPOCH FROM MIN(created_at))::bigint FROM leads_lead WHERE campaign_id = %(campaign)s
UNION ALL
SELECT 'span', 'last', EXTRACT(EPOCH FROM MAX(created_at))::bigint FROM leads_lead WHERE campaign_id = %(campaign)s
"""


def _campaign_tallies(campaign: Campaign) -> tuple[dict[str, int], dict[str, int], list[datetime.date]]:
    """Leads per status and per milestone, and the days (site's zone) of its first and last lead, from a few
    rows whatever the campaign's size."""
    tallies: dict[str, dict[str, int]] = {"status": {}, "milestone": {}, "span": {}}
    with connection.cursor() as cursor:
        cursor.execute(CAMPAIGN_TALLIES, {"campaign": campaign.pk})
        for table, key, leads in cursor.fetchall():
            if leads is not None:
                tallies[table][key] = int(leads)
    span = [
        timezone.localdate(datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC), timezone.get_default_timezone())
        for seconds in tallies["span"].values()
    ]
    return tallies["status"], tallies["milestone"], span


def campaign_results(campaign: Campaign, *, now: datetime.datetime) -> CampaignResults:
    """The campaign's results (see CampaignResults for what each figure counts) in four queries.

    The funnel comes from the read models (`leads.tally`: leads per status and per milestone
    reached), breaches and return reasons from the timeline's counts (`leads.counts`: one event
    per breached deadline and per return), the months' MQLs and the won deals from their read models
    (`CampaignMonthMqls`, `CampaignRevenue`), so the cost does not grow with the campaign's leads.
    Returns by reason count returns: a lead returned twice for the same reason counts twice there.
    """
    by_status, reached, span = _campaign_tallies(campaign)
    revenue = CampaignRevenue.objects.filter(campaign=campaign).first()
    won = {
        "won_deals": revenue.won_deals if revenue else 0,
        "won_revenue": revenue.won_revenue if revenue else Decimal(0),
    }
    happened = (
        EventCount.objects.filter(campaign=campaign, kind__in=[LeadEvent.Kind.BREACH, LeadEvent.Kind.RETURNED])
        .values("kind", "subgroup")
        .annotate(n=Sum("value"))
        .order_by()
    )
    breaches: dict[str, int] = {}
    returns: dict[str, int] = {}
    for row in happened:
        counted = breaches if row["kind"] == LeadEvent.Kind.BREACH else returns
        counted[row["subgroup"]] = counted.get(row["subgroup"], 0) + row["n"]
    reasons = sorted(returns.items(), key=lambda item: (-item[1], item[0]))
    M = CampaignMilestone.Milestone
    lead_figures = {
        "captured": sum(n for status, n in by_status.items() if status != S.MERGED),
        "mqls": reached.get(M.QUALIFIED, 0),
        "converted": by_status.get(S.CONVERTED, 0),
        **won,
        **{f"status_{value}": by_status.get(value, 0) for value in S.values},
    }
    handoff_figures = {
        "handed_off": reached.get(M.HANDED_OFF, 0),
        "accepted": reached.get(M.ACCEPTED, 0),
        "returned": reached.get(M.RETURNED, 0),
        "breached_leads": reached.get(M.BREACHED, 0),
        **{f"breach_{kind}": breaches.get(kind, 0) for kind in Deadline.Kind.values},
    }

    return CampaignResults(
        captured=lead_figures["captured"],
        merged=lead_figures[f"status_{S.MERGED}"],
        mqls=lead_figures["mqls"],
        handed_off=handoff_figures["handed_off"],
        accepted=handoff_figures["accepted"],
        returned=handoff_figures["returned"],
        returned_by_reason=[(reason or "No reason given", count) for reason, count in reasons],
        converted=lead_figures["converted"],
        won_deals=lead_figures["won_deals"],
        won_revenue=lead_figures["won_revenue"],
        spend=Decimal(campaign.actual_spend),
        breaches=[(label, handoff_figures[f"breach_{kind}"]) for kind, label in Deadline.Kind.choices],
        breached_leads=handoff_figures["breached_leads"],
        by_status=[(label, lead_figures[f"status_{value}"]) for value, label in S.choices if value != S.MERGED],
        mqls_by_month=_mqls_by_month(campaign, timezone.localdate(now, timezone.get_default_timezone()), span),
        target_mqls_per_month=campaign.target_mqls_per_month,
    )
