"""Marketing's lists of leads: every lead (searched, filtered, paged by keyset) and the leads sales sent back.

The lead list is built to stay fast at a million leads: pages are cut with a keyset cursor (the last
row's sort key and id) instead of OFFSET, and no page counts the whole table. Newest/oldest first
walk the index on (-created_at, -id), or (campaign, -created_at, -id) when one campaign is chosen.
"""

import datetime
from dataclasses import dataclass

from django.core import signing
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from common.localtime import local_midnight
from leads.models import Lead, LeadEvent, words_query
from sla.models import Deadline, Handoff

from .models import Campaign

S = Lead.Status


@dataclass(frozen=True)
class Order:
    label: str
    key: str  # the sort column; `id` breaks ties so equal keys still page without gaps or repeats
    descending: bool


ORDERS: dict[str, Order] = {
    "newest": Order("Newest first", "created_at", descending=True),
    "oldest": Order("Oldest first", "created_at", descending=False),
    "score": Order("Highest score first", "score", descending=True),
}
DEFAULT_ORDER = "newest"

CURSOR_SALT = "campaigns.lead_list.cursor"


class BadCursor(ValueError):
    """A page link that was altered, truncated or made for another sort."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: just after (or, going back, just before) the row with this key and id."""

    order: str
    value: datetime.datetime | int
    id: int
    backward: bool = False

    @classmethod
    def of(cls, lead: Lead, order: str, *, backward: bool = False) -> "Cursor":
        return cls(order, getattr(lead, ORDERS[order].key), lead.pk, backward)

    def token(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime.datetime) else self.value
        return signing.dumps([self.order, value, self.id, int(self.backward)], salt=CURSOR_SALT)

    @classmethod
    def from_token(cls, token: str) -> "Cursor":
        """Read a page link; raises BadCursor for anything this module did not sign."""
        try:
            order, value, pk, backward = signing.loads(token, salt=CURSOR_SALT)
            spec = ORDERS[order]
            if spec.key == "created_at":
                value = datetime.datetime.fromisoformat(value)
                if timezone.is_naive(value):
                    raise ValueError("naive cursor time")
            elif type(value) is not int:
                raise ValueError("score must be a whole number")
            if type(pk) is not int:
                raise ValueError("id must be a whole number")
        except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
            raise BadCursor("This page link is broken or out of date.") from exc
        return cls(order, value, pk, bool(backward))


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    next: Cursor | None
    previous: Cursor | None


def marketing_leads(
    *,
    search: str = "",
    campaign: Campaign | None = None,
    status: str = "",
    score_min: int | None = None,
    score_max: int | None = None,
    captured_from: datetime.date | None = None,
    captured_to: datetime.date | None = None,
) -> QuerySet[Lead]:
    """Leads matching every given filter, unordered (the page orders them). Leads merged into
    another are left out unless their status is asked for: they are duplicates, not leads to work.

    `search` finds the leads with, for each word typed, a word of their name, company or email that
    begins with it ("ada lov" finds "Ada Lovelace", "analytical" finds ada@analytical.org; "love" does
    not find "Glove"), through `Lead.search_words`: the planner walks the page's order when the words
    are common and asks the GIN index `lead_words_idx` when they are rare, so neither grows with the table.
    Text with no letter or digit finds nothing.
    """
    leads = Lead.objects.select_related("campaign", "owner")
    leads = leads.filter(status=status) if status else leads.exclude(status=S.MERGED)
    if search:
        query = words_query(search)
        leads = leads.filter(search_words=query) if query else leads.none()
    if campaign is not None:
        leads = leads.filter(campaign=campaign)
    if score_min is not None:
        leads = leads.filter(score__gte=score_min)
    if score_max is not None:
        leads = leads.filter(score__lte=score_max)
    if captured_from is not None:
        leads = leads.filter(created_at__gte=local_midnight(captured_from))
    if captured_to is not None:
        leads = leads.filter(created_at__lt=local_midnight(captured_to + datetime.timedelta(days=1)))
    return leads


def keyset_page(leads: QuerySet[Lead], *, order: str, cursor: Cursor | None = None, size: int = 50) -> LeadPage:
    """One page of `leads` in `order`, starting at `cursor` (the first page without one).

    One query of `size + 1` rows: the extra row only says whether there is more. The condition
    `key <= v AND (key < v OR id < i)` is the row comparison (key, id) < (v, i) written so that
    the planner starts an index range scan at `v` rather than filtering every row before it.
    """
    spec = ORDERS[order]
    backward = cursor is not None and cursor.backward
    descending = spec.descending != backward
    sign = "-" if descending else ""
    if cursor is not None:
        edge, beyond = ("lte", "lt") if descending else ("gte", "gt")
        leads = leads.filter(
            Q(**{f"{spec.key}__{edge}": cursor.value})
            & (Q(**{f"{spec.key}__{beyond}": cursor.value}) | Q(**{f"id__{beyond}": cursor.id}))
        )
    rows = list(leads.order_by(f"{sign}{spec.key}", f"{sign}id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = cursor is not None, more
    return LeadPage(
        leads=rows,
        next=Cursor.of(rows[-1], order) if has_next and rows else None,
        previous=Cursor.of(rows[0], order, backward=True) if has_previous and rows else None,
    )


def leads_by_ids(ids: list[int]) -> list[Lead]:
    """The leads with these ids that exist, oldest id first; a missing id is simply not there."""
    return list(Lead.objects.filter(pk__in=ids).order_by("id"))


def returned_leads() -> QuerySet[Lead]:
    """Leads sales sent back to marketing, most recently returned first, each with three one-item lists:

    - `return_events`: the latest RETURNED event (the rep as `actor`, when, the rep's note);
    - `return_handoffs`: the latest handoff closed as returned (its `return_reason`);
    - `follow_ups`: the latest returned-lead follow-up deadline (marketing's "act by" time).

    Five queries however many leads: the page's count, the leads, their events, handoffs and follow-ups.
    Prefetched rather than annotated so the lookups run for the page's rows only, not for every
    returned lead the sort has to read.
    """
    latest_event = (
        LeadEvent.objects.filter(kind=LeadEvent.Kind.RETURNED)
        .select_related("actor")
        .order_by("lead_id", "-created_at", "-id")
        .distinct("lead_id")
    )
    latest_handoff = (
        Handoff.objects.filter(outcome=Handoff.Outcome.RETURNED, closed_at__isnull=False)
        .order_by("lead_id", "-closed_at", "-id")
        .distinct("lead_id")
    )
    latest_follow_up = (
        Deadline.objects.filter(kind=Deadline.Kind.FOLLOW_UP)
        .order_by("lead_id", "-starts_at", "-id")
        .distinct("lead_id")
    )
    return (
        Lead.objects.filter(status=S.RETURNED)
        .select_related("campaign")
        .prefetch_related(
            Prefetch("events", queryset=latest_event, to_attr="return_events"),
            Prefetch("handoffs", queryset=latest_handoff, to_attr="return_handoffs"),
            Prefetch("deadlines", queryset=latest_follow_up, to_attr="follow_ups"),
        )
        # The status only changes by `transition`, so status_changed_at is when sales returned it.
        .order_by("-status_changed_at", "-id")
    )
