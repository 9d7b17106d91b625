"""Which moves a lead page offers to the person looking at it.

Display only, and no rules of its own: a button names the moves it makes, and it is offered exactly
when `transitions.refusal` finds nothing against one of them, so nobody is offered a move the
service would refuse. The services re-check on POST, under the row lock.
"""

from dataclasses import dataclass, replace

from django.urls import reverse

from people.roles import MARKETING_SIDE, has_role

from .models import Lead
from .transitions import may

S = Lead.Status


@dataclass(frozen=True)
class Action:
    name: str  # URL name in the `leads` namespace
    label: str
    moves: tuple[str, ...]  # the named moves (leads.transitions.MOVES) the button makes
    style: str = "primary"
    direct: bool = False  # a one-click POST, no form page
    namespace: str = "leads"
    href: str = ""  # filled in for the lead it is offered on


ACTIONS = (
    Action("qualify", "Mark MQL", ("qualify",), direct=True),
    Action("hand_off", "Hand to sales", ("hand_off",)),
    Action("renurture", "Back to nurturing", ("renurture",), style="secondary"),
    Action("claim", "Claim", ("claim",), direct=True),
    Action("first_contact", "Log first contact", ("first_contact",)),
    Action("convert", "Convert to deal", ("convert",), style="success"),
    Action("return", "Return to marketing", ("return",), style="warning"),
    Action("disqualify", "Disqualify", ("disqualify", "disqualify_worked"), style="outline-danger"),
    Action("assign", "Assign…", ("assign", "reassign"), style="outline-primary"),
    Action("merge", "Merge into…", ("merge",), style="outline-secondary", namespace="campaigns"),
)
# Not a move: the score can be set by hand whatever the status (but not on a merged-away lead).
SCORE = Action("score_override", "Set score", (), style="outline-secondary", namespace="campaigns")


def available_actions(lead: Lead, user) -> list[Action]:
    offered = [action for action in ACTIONS if any(may(lead, move, user) for move in action.moves)]
    if has_role(user, *MARKETING_SIDE) and lead.status != S.MERGED:
        offered.append(SCORE)
    return [replace(action, href=reverse(f"{action.namespace}:{action.name}", args=[lead.pk])) for action in offered]
