"""The agreement's life cycle: draft → sign → start. The one door for changing the SLA.

Any manager writes a draft (several may wait at once). Both heads of department sign the exact
revision they saw; an edit makes a new revision, so earlier signatures no longer count. At the draft's
start time the start job (beat, every minute) puts a draft signed by both into force as the next
`SlaPolicy` version through `policy_publish`. Each step is on the draft's record (`PolicyDraftEvent`).
"""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from people.roles import Role, has_role
from sla.models import (
    Department,
    DepartmentHead,
    PolicyDraft,
    PolicyDraftEvent,
    PolicySignature,
    SlaPolicy,
)
from sla.policies import policy_publish

# Drafts one run of the start job puts in force at most (a backlog waits for the next minute).
START_BATCH = 20


# What a draft holds: every value of a policy version but what publishing stamps on it.
POLICY_VALUES = [
    field.name
    for field in SlaPolicy._meta.concrete_fields
    if field.name not in ("id", "version", "created_at", "created_by")
]


def _stored(values: dict) -> dict:
    """The whole policy `values` make (the policy's defaults for what they leave out), checked as the
    policy checks them (ValidationError naming the fields), as JSON keeps them: decimals as strings, so
    the hash is stable."""
    policy = SlaPolicy(**values, version=1)
    policy.full_clean(exclude=["version", "created_by"], validate_unique=False)
    whole = {name: getattr(policy, name) for name in POLICY_VALUES}
    return {name: str(value) if isinstance(value, Decimal) else value for name, value in whole.items()}


def _record(draft: PolicyDraft, kind: str, *, actor, note: str = "", now: datetime) -> PolicyDraftEvent:
    return PolicyDraftEvent.objects.create(
        draft=draft,
        kind=kind,
        actor=actor,
        revision=draft.revision,
        content_hash=draft.content_hash,
        note=note[:300],
        created_at=now,
    )


def _check_manager(actor) -> None:
    if not has_role(actor, Role.MANAGERS):
        raise PermissionDenied("Only managers write SLA policy drafts.")


def draft_create(*, actor, values: dict, starts_at: datetime) -> PolicyDraft:
    """A new draft with `values` (SlaPolicy fields) to start at `starts_at`, based on the version in force."""
    _check_manager(actor)
    stored = _stored(values)
    now = timezone.now()
    with transaction.atomic():
        draft = PolicyDraft.objects.create(
            values=stored,
            based_on=SlaPolicy.current(),
            starts_at=starts_at,
            content_hash=PolicyDraft.hash_of(stored, starts_at),
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _record(draft, PolicyDraftEvent.Kind.DRAFTED, actor=actor, now=now)
    return draft


def _lock(draft: PolicyDraft) -> PolicyDraft:
    draft = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.is_started:
        raise ValidationError("This draft is already in force: write a new draft to change the policy.")
    return draft


def draft_edit(*, draft: PolicyDraft, actor, values: dict, starts_at: datetime) -> PolicyDraft:
    """Change a draft's values or start. Any change makes a new revision: the signatures given so far
    were for what the heads saw then, so both must sign again. An unchanged save changes nothing."""
    _check_manager(actor)
    stored = _stored(values)
    content_hash = PolicyDraft.hash_of(stored, starts_at)
    with transaction.atomic():
        draft = _lock(draft)
        if content_hash == draft.content_hash:
            return draft
        had_signatures = draft.signatures.filter(revision=draft.revision).exists()
        now = timezone.now()
        draft.values, draft.starts_at, draft.content_hash = stored, starts_at, content_hash
        draft.revision += 1
        draft.updated_at = now
        draft.save(update_fields=["values", "starts_at", "content_hash", "revision", "updated_at"])
        note = "Signatures cleared: both heads sign again." if had_signatures else ""
        _record(draft, PolicyDraftEvent.Kind.EDITED, actor=actor, note=note, now=now)
    return draft


def draft_replay_record(*, draft: PolicyDraft, actor, note: str, now: datetime) -> PolicyDraftEvent:
    """Put on the draft's record that `actor` replayed its current revision on past weeks (the replay
    itself lives in replays/, which calls this when it stores a report)."""
    return _record(draft, PolicyDraftEvent.Kind.REPLAYED, actor=actor, note=note, now=now)


def heads() -> dict[str, object]:
    """{department: user, or None while nobody heads it} for both departments."""
    found = {head.department: head.user for head in DepartmentHead.objects.select_related("user")}
    return {department: found.get(department) for department in Department.values}


def draft_sign(*, draft: PolicyDraft, signer, department: str, content_hash: str) -> PolicySignature:
    """`signer` signs `draft` for `department`, as the revision whose hash they saw (`content_hash`,
    sent by the page they signed on). Refused (PermissionDenied) unless they head that department;
    refused (ValidationError) when the draft changed since they saw it, or is already in force."""
    if department not in Department.values:
        raise ValidationError("No such department.")
    head = DepartmentHead.objects.filter(department=department).values_list("user_id", flat=True).first()
    if head != signer.pk:
        raise PermissionDenied(f"Only the head of {Department(department).label.lower()} signs for it.")
    with transaction.atomic():
        draft = _lock(draft)
        if content_hash != draft.content_hash:
            raise ValidationError("The draft changed after you opened it: read it again before you sign.")
        signature, created = PolicySignature.objects.get_or_create(
            draft=draft,
            revision=draft.revision,
            department=department,
            defaults={"signer": signer, "content_hash": draft.content_hash},
        )
        if created:
            _record(
                draft,
                PolicyDraftEvent.Kind.SIGNED,
                actor=signer,
                note=f"For {Department(department).label.lower()}",
                now=signature.signed_at,
            )
    return signature


def current_signatures(draft: PolicyDraft) -> dict[str, PolicySignature]:
    """{department: signature} of the draft's current revision."""
    return {
        signature.department: signature
        for signature in draft.signatures.filter(
            revision=draft.revision, content_hash=draft.content_hash
        ).select_related("signer")
    }


def is_signed_by_both(draft: PolicyDraft) -> bool:
    return set(current_signatures(draft)) == set(Department.values)


def drafts_start_due(*, now: datetime | None = None) -> list[SlaPolicy]:
    """Put in force every draft whose start has come and that both heads signed in its current
    revision, oldest start first, each as the next policy version. Returns the versions started.

    Exactly once with any number of workers: each draft is locked with SKIP LOCKED and its status read
    again under the lock, in the transaction that publishes the version and marks it started; a
    worker that finds it locked leaves it to the one holding it. A draft not signed by both stays a
    draft, however late it is.
    """
    now = now or timezone.now()
    started = []
    with transaction.atomic():
        # Only drafts both heads signed in their current revision: unsigned ones past their start
        # must not fill the batch and hold up a signed one behind them.
        signed = PolicySignature.objects.filter(
            draft=OuterRef("pk"), revision=OuterRef("revision"), content_hash=OuterRef("content_hash")
        )
        due = list(
            PolicyDraft.objects.filter(status=PolicyDraft.Status.DRAFT, starts_at__lte=now)
            .filter(*(Exists(signed.filter(department=department)) for department in Department.values))
            .select_for_update(skip_locked=True)
            .order_by("starts_at", "id")[:START_BATCH]
        )
        for draft in due:
            if not is_signed_by_both(draft):  # read again under the lock
                continue
            policy = policy_publish(actor=draft.created_by, **draft.values)
            draft.status, draft.policy, draft.started_at = PolicyDraft.Status.STARTED, policy, policy.created_at
            draft.save(update_fields=["status", "policy", "started_at"])
            _record(
                draft,
                PolicyDraftEvent.Kind.STARTED,
                actor=None,
                note=f"Version {policy.version}",
                now=policy.created_at,
            )
            started.append(policy)
    return started


def policy_signatories(policy: SlaPolicy) -> list[PolicySignature]:
    """Who signed the draft `policy` started from (empty for a version published before drafts)."""
    draft = PolicyDraft.objects.filter(policy=policy).first()
    return list(current_signatures(draft).values()) if draft else []
