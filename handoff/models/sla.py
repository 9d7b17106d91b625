from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


class SlaPolicy(models.Model):
    """The agreement between marketing and sales: how long each side may take.

    The newest row is the policy in force. Deadlines copy the time they were given, so editing or
    replacing a policy never rewrites a deadline already set.
    """

    name = models.CharField(max_length=100, default="Default")
    claim_hours = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=4,
        validators=[MinValueValidator(0.01)],
        help_text="Hours sales has to claim a lead after it is handed off.",
    )
    first_contact_hours = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=24,
        validators=[MinValueValidator(0.01)],
        help_text="Hours the rep has to contact a lead after claiming it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        get_latest_by = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(claim_hours__gt=0) & models.Q(first_contact_hours__gt=0),
                name="sla_policy_hours_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}: claim {self.claim_hours} h, first contact {self.first_contact_hours} h"

    @classmethod
    def current(cls) -> "SlaPolicy":
        """The policy in force; the defaults are created if the table is empty."""
        policy = cls.objects.order_by("-created_at", "-id").first()
        return policy or cls.objects.create()

    def allowed(self, kind: str) -> timedelta:
        hours = {Deadline.Kind.CLAIM: self.claim_hours, Deadline.Kind.FIRST_CONTACT: self.first_contact_hours}[kind]
        return timedelta(hours=float(hours))


class Handoff(models.Model):
    """One pass of the baton: a lead handed from marketing to sales, until sales closes it.

    A lead returned to marketing and handed off again gets a new Handoff, so each pass keeps its own
    deadlines and outcome.
    """

    class Outcome(models.TextChoices):
        CONVERTED = "converted", "Converted"
        RETURNED = "returned", "Returned to marketing"
        DISQUALIFIED = "disqualified", "Disqualified"

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="handoffs")
    handed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_off_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, help_text="For the rep who picks the lead up.")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="handoffs")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="claimed_handoffs"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    return_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            # At most one open pass per lead.
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(closed_at__isnull=True), name="one_open_handoff_per_lead"
            )
        ]
        indexes = [models.Index(fields=["claimed_by", "claimed_at"])]

    def __str__(self) -> str:
        return f"Handoff of lead {self.lead_id} at {self.handed_off_at:%Y-%m-%d %H:%M}"


class DeadlineQuerySet(models.QuerySet):
    def running(self):
        """Deadlines not yet met or cancelled; a breached one is still running until it is met."""
        return self.filter(met_at__isnull=True, cancelled_at__isnull=True)

    def due(self, now):
        """Running deadlines past their due time that the sweep has not yet marked breached."""
        return self.running().filter(breached_at__isnull=True, due_at__lte=now)


class Deadline(models.Model):
    """Something one side must do by a time, recorded on the handoff it belongs to.

    `due_at` and `allowed` are copied from the policy when the deadline is set and never recomputed.
    A deadline ends exactly one of three ways: met, cancelled (the lead left the path), or — set once
    by the sweep — breached. A breached deadline can still be met late; `met_at` then records when.
    """

    class Kind(models.TextChoices):
        CLAIM = "claim", "Claim"
        FIRST_CONTACT = "first_contact", "First contact"

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="deadlines")
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="deadlines")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deadlines",
        help_text="Who must act: empty while the lead waits in the queue for any rep.",
    )
    starts_at = models.DateTimeField()
    allowed = models.DurationField()
    due_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep recorded the breach.")
    breach_notified_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["handoff", "kind"], name="one_deadline_per_kind_per_handoff"),
            models.CheckConstraint(
                condition=models.Q(due_at__gte=models.F("starts_at")), name="deadline_due_after_start"
            ),
        ]
        indexes = [
            # The sweep's only query: open deadlines by due time. Partial, so its size is the number
            # of running deadlines, not of all deadlines ever set.
            models.Index(
                fields=["due_at"],
                name="deadline_open_due_idx",
                condition=models.Q(met_at__isnull=True, breached_at__isnull=True, cancelled_at__isnull=True),
            ),
            # The queue: unclaimed leads, most urgent claim deadline first (breached ones included).
            models.Index(
                fields=["due_at"],
                name="deadline_unclaimed_idx",
                condition=models.Q(kind="claim", met_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(fields=["owner", "kind", "due_at"]),
            models.Index(fields=["lead", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} deadline of lead {self.lead_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    def time_left(self, now=None) -> timedelta:
        return self.due_at - (now or timezone.now())
