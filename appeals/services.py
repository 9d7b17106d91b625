"""The one door for appeals: who may appeal a breach, who may rule on it, and the two state changes.

A missed deadline (`Deadline.is_missed`: what the dashboard counts late) is charged to whoever held it
when it fell due (`Deadline.owner`; nobody for a claim missed in the queue: the sales team's). It may
be appealed once, by that person or their manager — the head of their department, or the manager of
their sales team (for the queue's misses: any manager who leads a sales team). The other department
rules: its head, or a manager designated to rule on this side's appeals (`Arbiter`) — never the
appellant, nor the person the breach is charged to. Each step writes a timeline event on the lead in
the same transaction.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appeals.models import Appeal, AppealRuling, Ruling
from appeals.queries import sides_ruled_by
from leads.models import LeadEvent, SalesTeam
from people.names import person_name
from people.roles import Role, has_role
from sla.agreement import heads
from sla.models import Deadline, Department

E = LeadEvent.Kind


def side_of(deadline: Deadline) -> str:
    """Whose commitment the deadline was: marketing's for a returned-lead follow-up, else sales'."""
    return Department.MARKETING if deadline.kind == Deadline.Kind.FOLLOW_UP else Department.SALES


def charged_to_label(deadline: Deadline) -> str:
    if deadline.owner_id is None:
        return "the queue (the sales team)"
    return person_name(deadline.owner)


def _is_their_manager(user, deadline: Deadline, side: str) -> bool:
    if not has_role(user, Role.MANAGERS):
        return False
    if heads()[side] == user:
        return True
    if side != Department.SALES:
        return False
    if deadline.owner_id is None:
        return SalesTeam.objects.filter(manager=user).exists()
    return SalesTeam.objects.filter(manager=user, reps__user_id=deadline.owner_id).exists()


def _check_appeal(user, deadline: Deadline, *, now: datetime) -> None:
    """ValidationError when `deadline` can't be appealed (not missed, or appealed already);
    PermissionDenied when `user` may not appeal it. Each with words for them."""
    if not deadline.is_missed(now):
        raise ValidationError("Only a missed deadline can be appealed: this one was not missed.")
    if Appeal.objects.filter(deadline=deadline).exists():
        raise ValidationError("This breach has already been appealed: a breach is appealed once.")
    if deadline.owner_id != user.pk and not _is_their_manager(user, deadline, side_of(deadline)):
        raise PermissionDenied(
            f"Only the person this breach is charged to ({charged_to_label(deadline)}) or their manager may appeal it."
        )


def appeal_refusal(user, deadline: Deadline, *, now: datetime) -> str | None:
    """Why `user` may not appeal `deadline` now, in words for them; None when they may."""
    try:
        _check_appeal(user, deadline, now=now)
    except (ValidationError, PermissionDenied) as exc:
        return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return None


def may_rule(user, appeal: Appeal) -> bool:
    """Whether `user` may rule on `appeal` (open or not): the other department's head, or a manager
    designated to rule on this side's appeals; not the appellant nor the person charged."""
    if user.pk in (appeal.appellant_id, appeal.charged_to_id):
        return False
    return appeal.side in sides_ruled_by(user)


def appeal_make(*, actor, deadline: Deadline, reason: str, now: datetime | None = None) -> Appeal:
    """`actor` appeals the breach of `deadline` for `reason`. PermissionDenied when they may not;
    ValidationError for an empty reason, a deadline not missed, or one already appealed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the breach should be excused (e.g. the lead's phone number was wrong).")
    now = now or timezone.now()
    with transaction.atomic():
        # The lock orders two appeals of one breach: the second sees the first and is told so.
        deadline = Deadline.objects.select_for_update(of=("self",)).select_related("owner").get(pk=deadline.pk)
        _check_appeal(actor, deadline, now=now)
        appeal = Appeal(
            deadline=deadline,
            lead_id=deadline.lead_id,
            side=side_of(deadline),
            charged_to=deadline.owner,
            appellant=actor,
            reason=reason,
            created_at=now,
        )
        appeal.full_clean()
        appeal.save()
        LeadEvent.objects.create(
            lead_id=deadline.lead_id,
            kind=E.APPEALED,
            actor=actor,
            note=reason,
            data={"deadline": deadline.pk, "appeal": appeal.pk, "kind": deadline.kind},
            created_at=now,
        )
    return appeal


def appeal_rule(*, actor, appeal: Appeal, outcome: str, note: str, now: datetime | None = None) -> AppealRuling:
    """`actor` upholds or dismisses `appeal` with `note`. PermissionDenied unless they may rule on it;
    ValidationError for an unknown outcome, an empty note, or an appeal already ruled on."""
    if outcome not in Ruling.values:
        raise ValidationError("Choose to uphold or dismiss the appeal.")
    note = (note or "").strip()
    if not note:
        raise ValidationError("Give the reasons for the ruling: they go on the lead's record.")
    if not may_rule(actor, appeal):
        raise PermissionDenied(
            f"Only the head of {Department(appeal.ruled_by_department).label.lower()} or a manager designated to rule "
            "on these appeals may rule, and never on their own appeal or breach."
        )
    now = now or timezone.now()
    try:
        with transaction.atomic():
            appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
            if AppealRuling.objects.filter(appeal=appeal).exists():
                raise ValidationError("This appeal has already been ruled on: a ruling is final.")
            ruling = AppealRuling(appeal=appeal, outcome=outcome, judge=actor, note=note, created_at=now)
            ruling.full_clean(validate_unique=False)
            ruling.save()
            LeadEvent.objects.create(
                lead_id=appeal.lead_id,
                kind=E.APPEAL_UPHELD if outcome == Ruling.UPHELD else E.APPEAL_DISMISSED,
                actor=actor,
                note=note,
                data={"deadline": appeal.deadline_id, "appeal": appeal.pk, "ruling": ruling.pk},
                created_at=now,
            )
    except IntegrityError as exc:  # two rulings racing past the check: the unique key refuses the second
        raise ValidationError("This appeal has already been ruled on: a ruling is final.") from exc
    return ruling
