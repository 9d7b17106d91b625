"""Who gets a lead: capacity, the door automatic routing plugs into, and a manager's hand.

Capacity is checked with the rep's profile row locked, so two claims or assignments at the same
moment can never both take a rep over their limit. Automatic assignment (who is on shift, whose turn
it is, why) is the routing app's: it registers a `Router` here at start-up.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from people.names import person_name
from people.roles import Role, sales_reps

from .models import Lead, RepProfile


class AtCapacity(Exception):
    """The rep already holds as many open leads as their capacity allows."""


def open_lead_count(rep) -> int:
    return Lead.objects.filter(owner=rep, status__in=Lead.WORKED_BY_SALES).count()


def reps_with_load() -> QuerySet:
    """Active sales reps by name, each with `open_leads`, `capacity` and `away` (defaults for a rep
    without a profile yet), counted in one query."""
    return sales_reps().annotate(
        open_leads=Count("owned_leads", filter=Q(owned_leads__status__in=Lead.WORKED_BY_SALES)),
        capacity=Coalesce(F("rep_profile__capacity"), RepProfile._meta.get_field("capacity").default),
        away=Coalesce(F("rep_profile__is_away"), False),
    )


def rep_with_load_label(rep) -> str:
    """How the Assign menu shows a rep from reps_with_load: "Ada Byron · 3 of 25 open leads · away"."""
    label = f"{person_name(rep)} · {rep.open_leads} of {rep.capacity} open leads"
    if rep.open_leads >= rep.capacity:
        label += " · full"
    return label + (" · away" if rep.away else "")


def lock_profile(rep) -> RepProfile:
    """The rep's profile, created with defaults if missing, locked for this transaction."""
    locked = RepProfile.objects.select_for_update(of=("self",))
    profile = locked.filter(user=rep).first()  # one statement when it exists, as it nearly always does
    if profile is None:
        RepProfile.objects.get_or_create(user=rep)
        profile = locked.get(user=rep)
    return profile


def check_capacity(rep, *, taking: int = 1) -> RepProfile:
    """Lock the rep's profile and refuse if `taking` more leads would exceed their capacity."""
    profile = lock_profile(rep)
    held = open_lead_count(rep)
    if held + taking > profile.capacity:
        raise AtCapacity(
            f"{person_name(rep)} is at capacity: {held} open leads of {profile.capacity}. "
            "Close, return or hand over a lead first."
        )
    return profile


@dataclass(frozen=True)
class Routed:
    """Where automatic routing sends one lead: the chosen rep's profile (locked by the router, their
    turn already taken) or None, and the sentence the lead's timeline says about it."""

    profile: RepProfile | None
    note: str


class Router(Protocol):
    """Who gets a lead automatically. The routing app, which sits above this one, registers the one
    Handoff uses at start-up (`router_register`); the lead services call it inside their transaction,
    with the leads locked."""

    def route(self, *, lead: Lead, now: datetime, waiting: bool = False) -> Routed:
        """The rep for a lead just handed off (or `waiting` in the queue for a shift to start), or None
        (it waits in the queue)."""

    def route_after_breach(self, *, leads: list[Lead], excluding: list[int | None], now: datetime) -> list[Routed]:
        """The rep for each of a set of leads an escalation moves, the i-th never the user whose id is
        `excluding[i]`, as if they were routed one after another."""


_router: Router | None = None


def router_register(router: Router) -> None:
    global _router
    _router = router


def router() -> Router:
    if _router is None:
        raise ImproperlyConfigured("No lead router is registered: is the routing app in INSTALLED_APPS?")
    return _router


def active_managers() -> QuerySet:
    """Every active manager, oldest account first."""
    return get_user_model().objects.filter(groups__name=Role.MANAGERS, is_active=True).distinct().order_by("pk")


def team_manager_of(user):
    """The manager of `user`'s sales team if they are an active manager, else None."""
    if user is None:
        return None
    return active_managers().filter(managed_teams__reps__user=user).first()
