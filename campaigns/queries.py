"""Reads marketing's pages share, computed in SQL aggregates."""

from django.db.models import Count, Q, QuerySet, Sum

from leads.models import Lead

from .models import Campaign

S = Lead.Status
PASSED_TO_SALES = [S.HANDED_OFF, *Lead.WORKED_BY_SALES, S.CONVERTED, S.RETURNED]


def campaigns_with_counts() -> QuerySet[Campaign]:
    """Campaigns, each with its number of leads, MQLs-or-later and conversions."""
    return (
        Campaign.objects.select_related("owner")
        .annotate(
            lead_count=Count("leads"),
            handed_off_count=Count("leads", filter=Q(leads__status__in=PASSED_TO_SALES)),
            converted_count=Count("leads", filter=Q(leads__status=S.CONVERTED)),
        )
        .order_by("-start_date", "name", "id")
    )


def campaign_funnel(campaign: Campaign) -> dict:
    """How many of the campaign's leads are in each status, plus won revenue: two queries."""
    by_status = dict(
        Lead.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    revenue = Lead.objects.filter(campaign=campaign, deal__isnull=False).aggregate(total=Sum("deal__value"))["total"]
    return {
        "statuses": [(label, by_status.get(value, 0)) for value, label in S.choices],
        "total": sum(by_status.values()),
        "revenue": revenue or 0,
    }
