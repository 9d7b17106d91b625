"""The lead lifecycle: the named moves, who may make them, and the one function that makes them.

    new ─► mql ─► handed_off ─► claimed ─► contacted ─► converted
     │      │         ▲           │  ▲        │
     │      │         └─requeue───┘  └─hold/resume─► on_hold
     │      │                     ├───────────┴─► returned ─► new (re-nurture)
     ▼      ▼                     ▼           ▼        │
             disqualified  ◄──────────────────────────┘

A move is known by its name, never by the pair of statuses it joins: a claimed lead goes back to the
queue by *requeue*, not by *hand off*, though both end in "handed off". `MOVES` is the one place a
rule lives: the statuses a move starts from, where it leads, who may make it and the event it
writes. `transition` makes a move (and refuses any other), the services call it, and the lead page
offers a button exactly when `refusal` finds nothing to object to.
"""

from dataclasses import dataclass

from django.utils import timezone

from people.roles import MARKETING_SIDE, SALES_SIDE, Role, has_role

from .models import Lead, LeadEvent

S = Lead.Status
K = LeadEvent.Kind


@dataclass(frozen=True)
class Move:
    name: str
    sources: tuple[str, ...]
    # Where it leads. Empty: the lead keeps its status (a reassignment). Resume leads back to where
    # the lead was put on hold, so it names both.
    to: tuple[str, ...]
    event: str
    roles: tuple[str, ...]
    # Only the lead's owner may make it — or a manager stepping in.
    owner_only: bool = False

    # What the move needs, in plain words, for a lead in the wrong status ("Only MQLs can go to sales").
    needs: str = ""


SALES_OPEN = (S.CLAIMED, S.CONTACTED, S.ON_HOLD)

MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move("qualify", (S.NEW,), (S.MQL,), K.QUALIFIED, MARKETING_SIDE, needs="Only new leads can be qualified"),
        Move("hand_off", (S.MQL,), (S.HANDED_OFF,), K.HANDED_OFF, MARKETING_SIDE, needs="Only MQLs can go to sales"),
        Move(
            "claim",
            (S.HANDED_OFF,),
            (S.CLAIMED,),
            K.CLAIMED,
            (Role.SALES,),
            needs="Only leads in the queue can be claimed",
        ),
        Move(
            "assign",
            (S.HANDED_OFF,),
            (S.CLAIMED,),
            K.ASSIGNED,
            (Role.MANAGERS,),
            needs="Only leads in the queue can be assigned",
        ),
        Move(
            "reassign",
            SALES_OPEN,
            (),
            K.ASSIGNED,
            (Role.MANAGERS,),
            needs="Only leads a rep is working can be reassigned",
        ),
        Move(
            "first_contact",
            (S.CLAIMED,),
            (S.CONTACTED,),
            K.CONTACTED,
            SALES_SIDE,
            owner_only=True,
            needs="Only a claimed lead takes a first contact",
        ),
        Move(
            "hold",
            (S.CLAIMED, S.CONTACTED),
            (S.ON_HOLD,),
            K.ON_HOLD,
            SALES_SIDE,
            owner_only=True,
            needs="Only a lead a rep is working can be put on hold",
        ),
        Move(
            "resume",
            (S.ON_HOLD,),
            (S.CLAIMED, S.CONTACTED),
            K.RESUMED,
            SALES_SIDE,
            owner_only=True,
            needs="Only a lead on hold can be resumed",
        ),
        # Back to the queue: an escalation after a missed first contact, or the rep (or a manager).
        Move(
            "requeue",
            (S.CLAIMED,),
            (S.HANDED_OFF,),
            K.REQUEUED,
            SALES_SIDE,
            owner_only=True,
            needs="Only a claimed lead can go back to the queue",
        ),
        Move(
            "convert",
            (S.CONTACTED,),
            (S.CONVERTED,),
            K.CONVERTED,
            SALES_SIDE,
            owner_only=True,
            needs="Only a contacted lead can be converted",
        ),
        Move(
            "return",
            SALES_OPEN,
            (S.RETURNED,),
            K.RETURNED,
            SALES_SIDE,
            owner_only=True,
            needs="Only a lead a rep is working can go back to marketing",
        ),
        Move(
            "renurture",
            (S.RETURNED,),
            (S.NEW,),
            K.RENURTURED,
            MARKETING_SIDE,
            needs="Only a returned lead can be re-nurtured",
        ),
        # Marketing disqualifies the leads it holds; sales the leads it works (their owner).
        Move(
            "disqualify",
            (S.NEW, S.MQL, S.RETURNED),
            (S.DISQUALIFIED,),
            K.DISQUALIFIED,
            MARKETING_SIDE,
            needs="Marketing can disqualify only the leads it holds (new, MQL or returned)",
        ),
        Move(
            "disqualify_worked",
            SALES_OPEN,
            (S.DISQUALIFIED,),
            K.DISQUALIFIED,
            SALES_SIDE,
            owner_only=True,
            needs="Only a lead a rep is working can be disqualified by sales",
        ),
        # A duplicate folds into another lead while marketing holds it (never while sales works it).
        Move(
            "merge",
            (S.NEW, S.MQL, S.RETURNED, S.DISQUALIFIED),
            (S.MERGED,),
            K.MERGED,
            MARKETING_SIDE,
            needs="Only a lead marketing holds can be merged",
        ),
    )
}


# Where a lead is, in the words of a refusal: "… — this one is already in the sales queue."
WHERE_IT_IS = {
    S.NEW: "this one is new",
    S.MQL: "this one is an MQL",
    S.HANDED_OFF: "this one is already in the sales queue",
    S.CLAIMED: "this one is claimed and not contacted yet",
    S.CONTACTED: "this one is already contacted",
    S.ON_HOLD: "this one is on hold: resume it first",
    S.CONVERTED: "this one is already converted",
    S.RETURNED: "this one was returned to marketing",
    S.DISQUALIFIED: "this one is disqualified",
    S.MERGED: "this one was merged into another lead",
}
# The step that comes first, where there is one, said instead of where the lead is.
FIRST_STEP = {
    ("hand_off", S.NEW): "qualify it first",
    ("convert", S.CLAIMED): "log the first contact first",
    ("renurture", S.NEW): "this one is already back with marketing",
}


def wrong_status(move: str, status: str) -> str:
    """The plain-language refusal of `move` for a lead in `status`: "Only MQLs can go to sales — qualify it first."."""
    hint = FIRST_STEP.get((move, status)) or WHERE_IT_IS[status]
    return f"{MOVES[move].needs} — {hint}."


class TransitionError(Exception):
    """A move the lead's current state (or the actor) does not allow; the message is for the user."""


def refusal(lead: Lead, move: str, actor) -> str | None:
    """Why `actor` may not make `move` on `lead` as it is now, or None when they may. `actor` None is
    Handoff itself (round-robin, escalation, automatic qualification): only the status binds it."""
    rule = MOVES[move]
    if actor is not None and not has_role(actor, *rule.roles):
        return "Your role does not allow this action."
    if lead.status not in rule.sources:
        return wrong_status(move, lead.status)
    if actor is not None and rule.owner_only and lead.owner_id != actor.pk and not has_role(actor, Role.MANAGERS):
        return "Only the rep who owns this lead can do that."
    return None


def may(lead: Lead, move: str, actor) -> bool:
    return refusal(lead, move, actor) is None


def check(lead: Lead, move: str, actor) -> None:
    """Raise TransitionError with the reason when `actor` may not make `move` on `lead`."""
    reason = refusal(lead, move, actor)
    if reason is not None:
        raise TransitionError(reason)


def disqualify_move(lead: Lead) -> str:
    """Which of the two disqualify moves applies: sales' while it works the lead, else marketing's."""
    return "disqualify_worked" if lead.is_worked_by_sales else "disqualify"


def transition(
    lead: Lead, *, move: str, actor, to: str | None = None, note: str = "", data: dict | None = None, **changes
) -> LeadEvent:
    """Make `move` on `lead`: check it, set the status it leads to (`to` picks one where the move
    leads to more than one), apply `changes` to the lead's fields, and append the move's event.

    The caller holds the row lock (`select_for_update`) and the transaction. Raises TransitionError,
    writing nothing, when the move is not open to `actor` on the lead as it is.
    """
    check(lead, move, actor)
    rule = MOVES[move]
    if to is None and len(rule.to) > 1:
        raise ValueError(f"Say where {move} leads: one of {rule.to}.")
    if to is not None and to not in rule.to:
        raise ValueError(f"{move} does not lead to {to}.")
    now = timezone.now()
    from_status = lead.status
    fields = list(changes)
    if rule.to:
        lead.status = to or rule.to[0]
        lead.status_changed_at = now
        fields += ["status", "status_changed_at"]
    for field, value in changes.items():
        setattr(lead, field, value)
    if fields:
        lead.save(update_fields=fields)
    return LeadEvent.objects.create(
        lead=lead,
        kind=rule.event,
        actor=actor,
        # A move that keeps the status (reassignment) names none.
        from_status=from_status if rule.to else "",
        to_status=lead.status if rule.to else "",
        note=note,
        data=data or {},
        created_at=now,
    )


def transition_many(leads: list[Lead], *, move: str, actor, notes: list[str]) -> list[LeadEvent]:
    """`transition` for a batch (bulk imports) of a move that leads to one status: the same check for
    every lead, then one UPDATE and one INSERT for all of them. The caller holds the transaction; the
    leads are new or locked."""
    rule = MOVES[move]
    (to,) = rule.to
    now = timezone.now()
    events = []
    for lead, note in zip(leads, notes, strict=True):
        reason = refusal(lead, move, actor)
        if reason is not None:
            raise TransitionError(f"Lead {lead.pk}: {reason}")
        events.append(
            LeadEvent(
                lead=lead,
                kind=rule.event,
                actor=actor,
                from_status=lead.status,
                to_status=to,
                note=note,
                created_at=now,
            )
        )
        lead.status, lead.status_changed_at = to, now
    # Every lead gets the same values: one plain UPDATE (bulk_update would build a CASE per row).
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(status=to, status_changed_at=now)
    return LeadEvent.objects.bulk_create(events)
