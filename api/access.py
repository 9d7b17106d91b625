"""What each role may see through the API: the scoping the pages use, as querysets.

Marketing and managers see every lead (marketing's lead list); a rep sees the queue and their own
leads (the queue and My leads). A lead's own page is open to every role, and so is its API detail.
Deals: a rep's own, a manager's all (the deals board). Deadlines: a manager's all, everyone
else's their own.
"""

from django.db.models import Q, QuerySet

from leads.models import Deal, Lead
from people.roles import MARKETING_SIDE, Role, has_role
from sla.models import Deadline


def leads_visible_to(user, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    if has_role(user, *MARKETING_SIDE):
        return leads
    return leads.filter(Q(status=Lead.Status.HANDED_OFF) | Q(owner=user))


def deals_visible_to(user) -> QuerySet[Deal]:
    deals = Deal.objects.select_related("owner")
    return deals if has_role(user, Role.MANAGERS) else deals.filter(owner=user)


def deadlines_visible_to(user) -> QuerySet[Deadline]:
    deadlines = Deadline.objects.select_related("owner")
    return deadlines if has_role(user, Role.MANAGERS) else deadlines.filter(owner=user)
