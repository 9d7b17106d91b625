"""Possible duplicates: live leads that share a name and company under different addresses."""

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Upper

from leads.models import Lead


def _live_twins(full_name, company, pk) -> QuerySet[Lead]:
    """Live leads (not merged away, not disqualified) other than `pk` with this name and company,
    ignoring case; never for an empty company (a name alone is too common). Uses lead_name_company_idx.
    The arguments are values or OuterRef expressions."""
    return (
        Lead.objects.annotate(name_key=Upper("full_name"), company_key=Upper("company"))
        .filter(merged_into__isnull=True, name_key=Upper(full_name), company_key=Upper(company))
        .exclude(company="")
        .exclude(pk=pk)
        .exclude(status__in=[Lead.Status.MERGED, Lead.Status.DISQUALIFIED])
    )


def possible_duplicates(lead: Lead) -> QuerySet[Lead]:
    """Other live leads with the same name and company as `lead`: different addresses, so capture kept
    them apart, but likely the same person. Oldest first."""
    twins = _live_twins(Value(lead.full_name), Value(lead.company), lead.pk)
    return twins.select_related("campaign").order_by("created_at", "pk")


def flag_possible_duplicates(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """`leads` annotated with `possible_duplicate`: whether a live twin exists (one index probe per row
    fetched, so page the queryset first or let the database stop at the page's rows)."""
    return leads.annotate(
        possible_duplicate=Exists(_live_twins(OuterRef("full_name"), OuterRef("company"), OuterRef("pk")))
    )
