"""Reads of appeals that pages share: the open ones a person may rule on, and what the rulings excused."""

from django.db.models import Q, QuerySet

from appeals.models import Appeal, AppealRuling, Arbiter, Ruling, other_department
from people.roles import Role, has_role
from sla.agreement import heads
from sla.models import Department


def excused_deadlines() -> QuerySet:
    """The one definition of an excused breach: a deadline whose appeal was upheld. Their ids, for
    `pk__in` (a few rows, read through `appeal_ruling_upheld_idx`)."""
    return AppealRuling.objects.filter(outcome=Ruling.UPHELD).values("appeal__deadline")


def _listed(appeals: QuerySet) -> QuerySet:
    return appeals.select_related(
        "lead", "deadline", "charged_to", "appellant", "ruling__judge", "deadline__owner"
    ).order_by("created_at", "pk")


def open_appeals() -> QuerySet[Appeal]:
    """Appeals not yet ruled on, oldest first."""
    return _listed(Appeal.objects.filter(ruling__isnull=True))


def sides_ruled_by(user) -> set[str]:
    """The sides whose appeals `user` rules on: the other department's as its head, and any they are
    designated for; none unless they are a manager. Two queries."""
    if not has_role(user, Role.MANAGERS):
        return set()
    heading = heads()
    found = {side for side in Department.values if heading[other_department(side)] == user}
    return found | set(Arbiter.objects.filter(user=user).values_list("rules_on", flat=True))


def open_appeals_for(user) -> QuerySet[Appeal]:
    """Open appeals `user` may rule on (see `appeals.services.may_rule`)."""
    return open_appeals().filter(side__in=sides_ruled_by(user)).exclude(Q(appellant=user) | Q(charged_to=user))


def appeals_of(user) -> QuerySet[Appeal]:
    """Appeals `user` made or whose breach is charged to them, newest first."""
    return _listed(Appeal.objects.filter(Q(appellant=user) | Q(charged_to=user))).order_by("-created_at", "-pk")


def recently_ruled() -> QuerySet[Appeal]:
    return _listed(Appeal.objects.filter(ruling__isnull=False)).order_by("-ruling__created_at", "-pk")
