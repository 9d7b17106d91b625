"""The SLA as an agreement both departments sign: who heads each side, drafts of a policy change, the
heads' signatures and the record of each step.

A draft holds a whole policy's values (not a difference), so what a head signs is exactly what starts.
Its content hash covers the values and the start, and a signature keeps the hash and revision it was
given for: an edit makes a new revision, and the signatures of the old one no longer count.
"""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from common.models import AppendOnly
from people.roles import Role, has_role


class Department(models.TextChoices):
    """The two parties to the agreement."""

    SALES = "sales", "Sales"
    MARKETING = "marketing", "Marketing"


class DepartmentHead(models.Model):
    """Who heads a department and so signs the agreement for it. One person may head both (a small
    firm). Set in the admin: being a head is a matter of data, not of code."""

    department = models.CharField(max_length=20, choices=Department.choices, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A manager (in the Managers group); only they sign policy drafts for this department.",
    )

    class Meta:
        verbose_name = "head of department"
        verbose_name_plural = "heads of department"

    def __str__(self) -> str:
        return f"Head of {self.get_department_display().lower()}: {self.user}"

    def clean(self):
        if self.user_id is not None and not has_role(self.user, Role.MANAGERS):
            raise ValidationError({"user": "A head of department must be a manager (in the Managers group)."})


class PolicyDraft(models.Model):
    """A proposed SLA policy: written by any manager, signed by both heads, put in force by the start
    job at `starts_at` as the next `SlaPolicy` version (see `sla.agreement`)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        STARTED = "started", "In force"

    values = models.JSONField(help_text="The SlaPolicy fields of the proposed version (decimals as strings).")
    based_on = models.ForeignKey(
        "sla.SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The version in force when it was drafted.",
    )
    starts_at = models.DateTimeField(help_text="When it is to come into force, once both heads have signed.")
    revision = models.PositiveIntegerField(default=1, help_text="One more at each edit.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the values and the start: what a head signs.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    policy = models.OneToOneField(
        "sla.SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="draft",
        help_text="The version it became when it started.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft", policy__isnull=True, started_at__isnull=True)
                | models.Q(status="started", policy__isnull=False, started_at__isnull=False),
                name="policy_draft_started_has_policy",
            )
        ]
        indexes = [
            # The start job's probe: drafts not yet started, by start time.
            models.Index(fields=["starts_at"], name="policy_draft_waiting_idx", condition=models.Q(status="draft"))
        ]

    def __str__(self) -> str:
        return f"Draft {self.pk} (revision {self.revision}): {self.values.get('name', '')}"

    def get_absolute_url(self) -> str:
        return reverse("sla_draft", args=[self.pk])

    @staticmethod
    def hash_of(values: dict, starts_at) -> str:
        canonical = json.dumps({"values": values, "starts_at": starts_at.isoformat()}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def is_started(self) -> bool:
        return self.status == self.Status.STARTED


class PolicySignature(models.Model):
    """A head's signature on one revision of a draft, for one department. Never edited; an edit of
    the draft makes its signatures stale (they name the old revision and hash) rather than deleting
    them, so the record keeps who signed what."""

    draft = models.ForeignKey(PolicyDraft, on_delete=models.PROTECT, related_name="signatures")
    department = models.CharField(max_length=20, choices=Department.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["draft", "revision", "department"], name="one_signature_per_department_and_revision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_department_display()} signed draft {self.draft_id} revision {self.revision}"


class PolicyDraftEvent(AppendOnly):
    """The audit trail of a draft: drafted, edited, replayed, signed, started. Append-only."""

    record_name = "The agreement's record entries"

    class Kind(models.TextChoices):
        DRAFTED = "drafted", "Drafted"
        EDITED = "edited", "Edited (signatures cleared)"
        SIGNED = "signed", "Signed"
        # Someone replayed the revision on past weeks (replays/); the note names the weeks and report.
        REPLAYED = "replayed", "Replayed"
        STARTED = "started", "In force"

    draft = models.ForeignKey(PolicyDraft, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the start job acted.",
    )
    revision = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · draft {self.draft_id} · {self.created_at:%Y-%m-%d %H:%M}"
