"""Every button works: the walk over every status × role × (owner / another rep / no owner) × move.

For each, the lead page shows the move's button exactly when posting the move as that user makes it
(writes its event), and neither the page, the move's form nor the POST ever answers a server error.
Each POST runs in a savepoint that is rolled back, so every user tries every move on the same lead.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from conftest import ROUTES, LeadFactory, UserFactory, move
from leads import services
from leads.models import Lead, LeadEvent, ReturnReason
from people.roles import Role

pytestmark = pytest.mark.django_db

S = Lead.Status

# The lead's state: its status, and for on hold whether it was first contacted before.
STATES = {status: ROUTES[status] for status in S.values}
STATES["on_hold_after_contact"] = (S.MQL, S.HANDED_OFF, S.CLAIMED, S.CONTACTED, S.ON_HOLD)


# The buttons someone may use on a lead in each state (the walk checks nobody else sees them).
MADE = {
    S.NEW: {"qualify", "disqualify", "merge"},
    S.MQL: {"hand_off", "disqualify", "merge"},
    S.HANDED_OFF: {"claim", "assign"},
    S.CLAIMED: {"first_contact", "return", "disqualify", "assign", "hold"},
    S.CONTACTED: {"convert", "return", "disqualify", "assign", "hold"},
    S.ON_HOLD: {"return", "disqualify", "assign", "resume"},
    "on_hold_after_contact": {"return", "disqualify", "assign", "resume"},
    S.RETURNED: {"renurture", "disqualify", "merge"},
    S.DISQUALIFIED: {"merge"},
    S.CONVERTED: set(),
    S.MERGED: set(),
}


class TriedMove(Exception):
    """Raised to roll a tried move back."""


def buttons(lead: Lead, *, assignee, keeper) -> dict[str, tuple[str, dict]]:
    """Each move's button on the lead page: its URL and what its form posts."""
    reason = ReturnReason.objects.get_or_create(label="Outside our market", defaults={"position": 0})[0]
    data = {
        "qualify": ("leads:qualify", {}),
        "hand_off": ("leads:hand_off", {"note": "Asked for a demo"}),
        "renurture": ("leads:renurture", {"note": ""}),
        "claim": ("leads:claim", {}),
        "first_contact": ("leads:first_contact", {"note": "Called"}),
        "convert": ("leads:convert", {"value": "100", "currency": "EUR", "stage": "qualified", "note": ""}),
        "return": ("leads:return", {"reason": reason.label}),
        "disqualify": ("leads:disqualify", {"reason": "Not a real company"}),
        "assign": ("leads:assign", {"rep": assignee.pk}),
        "merge": ("campaigns:merge", {"into_email": keeper.email}),
        "hold": ("leads:hold", {"reason": "Waiting on the customer"}),
        "resume": ("leads:resume", {}),
    }
    return {name: (reverse(url, args=[lead.pk]), post) for name, (url, post) in data.items()}


# Each state with the lead owned by a rep once sales has it; those sales works also with a manager as
# the owner (an escalation gives a lead that missed its SLA twice to a manager).
CASES = [(state, "rep") for state in sorted(STATES)] + [
    (state, "manager") for state in sorted(STATES) if STATES[state] and STATES[state][-1] in Lead.WORKED_BY_SALES
]


@pytest.mark.parametrize(("state", "owned_by"), CASES)
def test_a_button_is_shown_exactly_when_its_move_is_accepted(
    client, campaign, marketer, rep, other_rep, manager, state, owned_by
):
    """Given a lead in `state` (owned by `rep`, or by the manager, once sales has it), for the marketer,
    the reps (its owner, another rep, or neither when nobody owns it) and the manager: each move's
    button is on the lead page if and only if posting that move writes an event, and no page or POST
    answers 500."""
    lead = LeadFactory(campaign=campaign)
    for step in STATES[state]:
        if step == S.CLAIMED and owned_by == "manager":
            assert services.lead_assign_after_breach(lead=lead, to_manager=True) == manager
            lead.refresh_from_db()
        else:
            move(lead, step, marketer=marketer, rep=manager if owned_by == "manager" else rep)
    keeper = LeadFactory(campaign=campaign)
    assignee = UserFactory(username="third_rep", role=Role.SALES)
    mismatches, made = [], set()
    for viewer in (marketer, rep, other_rep, manager):
        client.force_login(viewer)
        page = client.get(reverse("leads:detail", args=[lead.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        for name, (url, post) in buttons(lead, assignee=assignee, keeper=keeper).items():
            shown = f'"{url}"' in html
            form = client.get(url)
            assert form.status_code < 500, (viewer.username, name)
            try:
                with transaction.atomic():
                    before = LeadEvent.objects.filter(lead=lead).count()
                    response = client.post(url, post)
                    assert response.status_code < 500, (viewer.username, name)
                    accepted = LeadEvent.objects.filter(lead=lead).count() > before
                    raise TriedMove
            except TriedMove:
                pass
            if accepted:
                made.add(name)
            if shown != accepted:
                mismatches.append((viewer.username, name, f"shown={shown}", f"accepted={accepted}"))
    assert mismatches == []
    assert made == MADE[state]
