"""Which moves a lead page offers to the person looking at it.

Display only: the services decide (and re-check) what is allowed; this table keeps the buttons in
step with them so nobody is offered a move that would be refused.
"""

from dataclasses import dataclass, replace

from django.urls import reverse

from handoff.roles import MARKETING_SIDE, SALES_SIDE, Role, user_roles

from .models import Lead
from .transitions import can_transition

S = Lead.Status


@dataclass(frozen=True)
class Action:
    name: str  # URL name in the `leads` namespace
    label: str
    to: str
    roles: tuple[str, ...]
    owner_only: bool = False
    style: str = "primary"
    direct: bool = False  # a one-click POST, no form page
    namespace: str = "leads"
    href: str = ""  # filled in for the lead it is offered on


ACTIONS = (
    Action("qualify", "Mark MQL", S.MQL, MARKETING_SIDE, direct=True),
    Action("hand_off", "Hand to sales", S.HANDED_OFF, MARKETING_SIDE),
    Action("renurture", "Back to nurturing", S.NEW, MARKETING_SIDE, style="secondary"),
    Action("claim", "Claim", S.CLAIMED, (Role.SALES,), direct=True),
    Action("first_contact", "Log first contact", S.CONTACTED, SALES_SIDE, owner_only=True),
    Action("convert", "Convert to deal", S.CONVERTED, SALES_SIDE, owner_only=True, style="success"),
    Action("return", "Return to marketing", S.RETURNED, SALES_SIDE, owner_only=True, style="warning"),
)
DISQUALIFY = Action("disqualify", "Disqualify", S.DISQUALIFIED, MARKETING_SIDE, style="outline-danger")
ASSIGN = Action("assign", "Assign…", S.CLAIMED, (Role.MANAGERS,), style="outline-primary")
MERGE = Action("merge", "Merge into…", S.MERGED, MARKETING_SIDE, style="outline-secondary", namespace="campaigns")
# Not a move: the score can be set by hand whatever the status (but not on a merged-away lead).
SCORE = Action("score_override", "Set score", "", MARKETING_SIDE, style="outline-secondary", namespace="campaigns")


def available_actions(lead: Lead, user) -> list[Action]:
    roles = user_roles(user)
    sales_side = lead.is_worked_by_sales
    is_owner_or_manager = lead.owner_id == user.pk or Role.MANAGERS in roles
    offered: list[Action] = []
    for action in ACTIONS:
        if not can_transition(lead, action.to) or not roles & set(action.roles):
            continue
        if action.owner_only and not is_owner_or_manager:
            continue
        offered.append(action)
    may_disqualify = is_owner_or_manager if sales_side else bool(roles & set(MARKETING_SIDE))
    if can_transition(lead, S.DISQUALIFIED) and may_disqualify:
        offered.append(DISQUALIFY)
    if Role.MANAGERS in roles and (lead.status == S.HANDED_OFF or sales_side):
        offered.append(ASSIGN)
    if roles & set(MARKETING_SIDE):
        if can_transition(lead, S.MERGED):
            offered.append(MERGE)
        if lead.status != S.MERGED:
            offered.append(SCORE)
    return [replace(action, href=reverse(f"{action.namespace}:{action.name}", args=[lead.pk])) for action in offered]
