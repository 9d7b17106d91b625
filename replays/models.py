"""A replay of a policy draft on past weeks, kept as a report: asked for on a page, worked out by a
worker (replays/recompute.py), read many times. Never recomputed when it is viewed."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from sla.models import Deadline

# How far back a replay reaches: 4 weeks unless asked, 13 (a quarter) at most.
DEFAULT_WEEKS = 4
MAX_WEEKS = 13


class Replay(models.Model):
    """The deadlines that started in `period_start`…`period_end` worked out again under a draft's
    revision (its values copied here, so the report says what it replayed even after an edit), side
    by side with what happened. `summary` holds the figures; `flips` the deadlines that change side."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    draft = models.ForeignKey("sla.PolicyDraft", on_delete=models.PROTECT, related_name="replays")
    revision = models.PositiveIntegerField(help_text="The draft's revision replayed.")
    content_hash = models.CharField(max_length=64, help_text="That revision's content hash.")
    values = models.JSONField(help_text="The draft's values replayed (a copy: the draft may change after).")
    weeks = models.PositiveSmallIntegerField(
        default=DEFAULT_WEEKS, validators=[MinValueValidator(1), MaxValueValidator(MAX_WEEKS)]
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(help_text="When it was asked for: deadlines that started before count.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Deadlines to replay.")
    done = models.PositiveIntegerField(default=0, help_text="Deadlines replayed so far (the progress bar).")
    summary = models.JSONField(default=dict, blank=True, help_text="The report's figures (see recompute.py).")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weeks__gte=1, weeks__lte=MAX_WEEKS), name="replay_weeks_range"),
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="replay_done_le_total"),
        ]

    def __str__(self) -> str:
        return f"Replay {self.pk} of draft {self.draft_id} revision {self.revision} ({self.weeks} weeks)"

    def get_absolute_url(self) -> str:
        return reverse("replay", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return self.done * 100 // self.total if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ReplayFlip(models.Model):
    """A deadline that changes side under the draft: met as it happened and missed under the draft,
    or the other way round. Written in bulk when the replay finishes."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="flips")
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, related_name="+", db_index=False)
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Deadline.Kind.choices)
    priority = models.CharField(max_length=10, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    starts_at = models.DateTimeField()
    recorded_due_at = models.DateTimeField()
    replayed_due_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="When it was met or cancelled, if it was.")
    now_met = models.BooleanField(help_text="True: missed as it happened, met under the draft; False: the reverse.")

    class Meta:
        ordering = ["replay", "starts_at", "id"]
        indexes = [models.Index(fields=["replay", "starts_at", "id"], name="replayflip_report_idx")]

    def __str__(self) -> str:
        return f"Deadline {self.deadline_id}: {'met' if self.now_met else 'missed'} under the draft"
