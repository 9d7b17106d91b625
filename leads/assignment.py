"""Who gets a lead: capacity, the round-robin, and a manager's hand.

Capacity is checked with the rep's profile row locked, so two claims or assignments at the same
moment can never both take a rep over their limit. The round-robin picks, among reps of teams that
assign automatically, the available rep who has waited longest since their last assignment.
"""

from collections.abc import Collection
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

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


def is_on_shift(profile: RepProfile, now: datetime) -> bool:
    """Whether the rep is working now. Hook for the business-hours calendar (SLA engine issue):
    until teams have calendars, every active rep is on shift."""
    return True


def round_robin_candidates(now: datetime, *, exclude: Collection[int] = ()):
    """Reps who may receive an automatic assignment, the one who waited longest first; users whose
    ids are in `exclude` are left out."""
    sales = get_user_model().objects.filter(groups__name=Role.SALES, is_active=True).exclude(pk__in=exclude)
    return (
        RepProfile.objects.filter(team__auto_assign=True, is_away=False, user__in=sales)
        .annotate(held=Count("user__owned_leads", filter=Q(user__owned_leads__status__in=Lead.WORKED_BY_SALES)))
        .filter(held__lt=F("capacity"))
        .select_related("user")
        # Never-assigned reps (NULL) have waited longest; PostgreSQL sorts NULL last unless told.
        .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
    )


def next_rep(now: datetime, *, exclude: Collection[int] = ()):
    """Lock and return the profile of the rep who should get the next lead, or None. Users whose ids
    are in `exclude` are skipped (an escalation never gives a lead back to the rep who let it lapse).

    First pass skips profiles another transaction holds (a concurrent assignment is taking that rep
    right now), so simultaneous hand-offs spread over reps; if everyone is locked, the second pass
    waits. After locking, capacity is counted again: the annotation was read before the lock.
    """
    for skip_locked in (True, False):
        for candidate in round_robin_candidates(now, exclude=exclude):
            if not is_on_shift(candidate, now):
                continue
            locked = (
                RepProfile.objects.select_for_update(of=("self",), skip_locked=skip_locked)
                .select_related("user")
                .filter(pk=candidate.pk, is_away=False, team__auto_assign=True)
                .first()
            )
            if locked is not None and open_lead_count(locked.user) < locked.capacity:
                return locked
    return None


def round_robin_plan(now: datetime, *, excluding: list[int | None]) -> list[RepProfile | None]:
    """The rep for each of a set of leads, as `next_rep` would pick them one after another: the i-th
    lead never goes to the user whose id is `excluding[i]`, and None means nobody is available.

    The candidates are read and locked once for the set (in pk order and waiting, so two sets never
    deadlock), their open leads counted after the lock; each pick moves its rep to the back of the
    line and sets its `last_assigned_at` in memory. The caller saves the picked profiles.
    """
    candidates = [candidate.pk for candidate in round_robin_candidates(now) if is_on_shift(candidate, now)]
    if not candidates:
        return [None] * len(excluding)
    locked = list(
        RepProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk__in=candidates, is_away=False, team__auto_assign=True)
        .order_by("pk")
    )
    held = dict(
        Lead.objects.filter(owner_id__in=[profile.user_id for profile in locked], status__in=Lead.WORKED_BY_SALES)
        .order_by()
        .values_list("owner_id")
        .annotate(Count("pk"))
    )
    # Never-assigned reps (None) have waited longest, as in round_robin_candidates.
    line = sorted(
        locked, key=lambda profile: (profile.last_assigned_at is not None, profile.last_assigned_at, profile.pk)
    )
    plan = []
    for user_id in excluding:
        pick = next(
            (p for p in line if p.user_id != user_id and held.get(p.user_id, 0) < p.capacity),
            None,
        )
        if pick is not None:
            held[pick.user_id] = held.get(pick.user_id, 0) + 1
            pick.last_assigned_at = timezone.now()
            line.remove(pick)
            line.append(pick)
        plan.append(pick)
    return plan


def active_managers() -> QuerySet:
    """Every active manager, oldest account first."""
    return get_user_model().objects.filter(groups__name=Role.MANAGERS, is_active=True).distinct().order_by("pk")


def team_manager_of(user):
    """The manager of `user`'s sales team if they are an active manager, else None."""
    if user is None:
        return None
    return active_managers().filter(managed_teams__reps__user=user).first()
