"""Moves by name: the lifecycle's move table (leads.transitions.MOVES) over the API.

Each API move names the table's moves it makes (disqualify is marketing's or the rep's, by where
the lead is), the inputs it takes, and the service that makes it; the services check the move under
the row lock and write the timeline. Nothing here writes a status.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from rest_framework import serializers

from common.daterange import EARLIEST_DAY, LATEST_DAY, OUT_OF_RANGE
from leads import services
from leads.models import Deal, Lead, ReturnReason
from leads.transitions import MOVES, disqualify_move, may, refusal
from people.roles import has_role


@dataclass(frozen=True)
class ApiMove:
    name: str
    moves: tuple[str, ...]  # the move table's names it may make
    service: Callable[..., object]  # the lead service that makes it; raises TransitionError
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ("note",)
    actor_arg: str = "actor"  # what the service calls the acting user (a claim's is the rep)

    def table_move(self, lead: Lead) -> str:
        return disqualify_move(lead) if self.name == "disqualify" else self.moves[0]

    def perform(self, lead: Lead, actor, inputs: dict) -> None:
        self.service(lead=lead, **{self.actor_arg: actor}, **inputs)


def _convert(*, lead: Lead, actor, **inputs) -> Deal:
    # Deals are in the installation's one currency, as on the page (read now, not at import).
    return services.lead_convert(lead=lead, actor=actor, currency=settings.CURRENCY, **inputs)


REASON = {"required": ("reason",), "optional": ()}

API_MOVES: dict[str, ApiMove] = {
    move.name: move
    for move in (
        ApiMove("qualify", ("qualify",), services.lead_qualify),
        ApiMove("hand_off", ("hand_off",), services.lead_hand_off),
        ApiMove("claim", ("claim",), services.lead_claim, optional=(), actor_arg="rep"),
        ApiMove("first_contact", ("first_contact",), services.lead_log_first_contact, required=("note",), optional=()),
        ApiMove("hold", ("hold",), services.lead_hold, **REASON),
        ApiMove("resume", ("resume",), services.lead_resume),
        ApiMove("requeue", ("requeue",), services.lead_requeue, **REASON),
        ApiMove(
            "convert", ("convert",), _convert, required=("value",), optional=("note", "stage", "expected_close_date")
        ),
        ApiMove("return", ("return",), services.lead_return, required=("reason",)),
        ApiMove("renurture", ("renurture",), services.lead_renurture),
        ApiMove("disqualify", ("disqualify", "disqualify_worked"), services.lead_disqualify, **REASON),
    )
}

INPUTS = ("note", "reason", "value", "stage", "expected_close_date")


def moves_open_to(lead: Lead, user) -> list[str]:
    """The API moves `user` may make on `lead` as it is now (what the lead page would offer)."""
    return [move.name for move in API_MOVES.values() if any(may(lead, name, user) for name in move.moves)]


def check_actor(move: ApiMove, lead: Lead, user) -> None:
    """Raise PermissionDenied (403) when the move is closed to `user` whatever the lead's state: their
    role is not in the table, or the table keeps it to the lead's owner. Refusals for the lead's
    state are the service's to give (409), under the row lock."""
    table_move = move.table_move(lead)
    if not has_role(user, *MOVES[table_move].roles):
        raise PermissionDenied("Your role does not allow this move.")
    # Refused for this user but open to Handoff itself on the lead as it is: the refusal is the actor's.
    if refusal(lead, table_move, user) is not None and refusal(lead, table_move, None) is None:
        raise PermissionDenied(refusal(lead, table_move, user))


class MoveSerializer(serializers.Serializer):
    """One move by name and its inputs; each move takes only its own (see the move list)."""

    move = serializers.ChoiceField(choices=list(API_MOVES))
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    reason = serializers.CharField(
        max_length=500,
        required=False,
        help_text="hold, requeue, disqualify: why (hold: at most 300 characters); return: one of the active "
        "return reasons.",
    )
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    stage = serializers.ChoiceField(
        choices=[(stage, Deal.Stage(stage).label) for stage in (*Deal.OPEN_STAGES, Deal.Stage.WON)], required=False
    )
    expected_close_date = serializers.DateField(required=False, allow_null=True)

    def validate_expected_close_date(self, day):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise serializers.ValidationError(OUT_OF_RANGE)
        return day

    def validate(self, attrs):
        move = API_MOVES[attrs["move"]]
        given = {name for name in INPUTS if name in attrs}
        problems = {name: ["This move does not take it."] for name in given - {*move.required, *move.optional}}
        problems |= {name: ["This field is required."] for name in move.required if not attrs.get(name)}
        longest_hold = Lead._meta.get_field("hold_reason").max_length
        if move.name == "hold" and len(attrs.get("reason", "")) > longest_hold:
            problems["reason"] = [f"Ensure this field has no more than {longest_hold} characters."]
        if move.name == "return" and attrs.get("reason") and not _is_return_reason(attrs["reason"]):
            problems["reason"] = ["Choose one of the return reasons managers keep."]
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


def _is_return_reason(label: str) -> bool:
    return ReturnReason.objects.filter(is_active=True, label=label).exists()
