from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Least
from django.utils import timezone


def _hours(default, help_text: str):
    return models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=default,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=help_text,
    )


class EscalationStep(models.TextChoices):
    """What the worker does, in the policy's order, after a sales deadline is breached."""

    NOTIFY_MANAGER = "notify_manager", "Notify the rep's manager"
    RETURN_TO_QUEUE = "return_to_queue", "Return the lead to the queue"
    REASSIGN = "reassign", "Reassign to the next available rep"


def default_escalation_steps() -> list[str]:
    return [EscalationStep.NOTIFY_MANAGER, EscalationStep.RETURN_TO_QUEUE, EscalationStep.REASSIGN]


class SlaPolicy(models.Model):
    """The agreement between marketing and sales: how long each side may take, and what happens when
    a side is late.

    Policies are versioned and never edited: a manager's change publishes a new version (see
    `sla.policies.policy_publish`), and the highest version is in force. Deadlines point at the
    version they were set under and copy the time they were given, so a change applies to new
    deadlines only and never rewrites history.
    """

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=100, default="Default")
    note = models.TextField(
        blank=True, max_length=1000, help_text="Why this version was made; shown in the policy history."
    )
    # Sales side, per priority tier of the lead's score when the clock starts.
    claim_hours_hot = _hours(1, "Business hours sales has to claim a hot lead after it is handed off.")
    claim_hours_warm = _hours(4, "Business hours sales has to claim a warm lead after it is handed off.")
    claim_hours_cold = _hours(8, "Business hours sales has to claim a cold lead after it is handed off.")
    first_contact_hours_hot = _hours(4, "Business hours the rep has to contact a hot lead after claiming it.")
    first_contact_hours_warm = _hours(8, "Business hours the rep has to contact a warm lead after claiming it.")
    first_contact_hours_cold = _hours(24, "Business hours the rep has to contact a cold lead after claiming it.")
    # Marketing side.
    follow_up_days = models.PositiveSmallIntegerField(
        "returned-lead follow-up (business days)",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Business days marketing has to re-nurture or disqualify a lead sales returned.",
    )
    acceptance_target_percent = models.PositiveSmallIntegerField(
        "acceptance rate target (%)",
        default=70,
        validators=[MaxValueValidator(100)],
        help_text="Share of each campaign's handed-off leads sales should accept (claim and keep).",
    )
    # Both sides.
    warning_percent = models.PositiveSmallIntegerField(
        "warn at (% of the allowed time)",
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="The owner is warned once this share of the allowed business time has passed.",
    )
    escalation_steps = ArrayField(
        models.CharField(max_length=20, choices=EscalationStep.choices),
        default=default_escalation_steps,
        blank=True,
        size=len(EscalationStep.values),
        help_text="What happens after a sales deadline is breached, in this order.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    TIERS = ("hot", "warm", "cold")

    class Meta:
        db_table = "handoff_slapolicy"  # its table from before it left handoff/
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        get_latest_by = "version"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    claim_hours_hot__gt=0,
                    claim_hours_warm__gt=0,
                    claim_hours_cold__gt=0,
                    first_contact_hours_hot__gt=0,
                    first_contact_hours_warm__gt=0,
                    first_contact_hours_cold__gt=0,
                    follow_up_days__gt=0,
                    acceptance_target_percent__lte=100,
                    warning_percent__gt=0,
                    warning_percent__lt=100,
                ),
                name="sla_policy_values_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"Version {self.version}: {self.name}"

    def clean(self):
        steps = list(self.escalation_steps or [])
        if len(steps) != len(set(steps)):
            raise ValidationError({"escalation_steps": "Each escalation step can appear once."})

    @classmethod
    def current(cls) -> "SlaPolicy":
        """The policy in force: the highest version; version 1 with the defaults if there is none."""
        policy = cls.objects.order_by("-version").first()
        if policy is None:
            policy, _ = cls.objects.get_or_create(version=1)
        return policy

    def hours(self, kind: str, priority: str) -> Decimal:
        """Business hours allowed for a sales deadline of `kind` on a lead of `priority`."""
        if priority not in self.TIERS:
            raise ValueError(f"No priority tier called {priority!r}")
        return getattr(self, f"{kind}_hours_{priority}")

    def allowed(self, kind: str, priority: str = "cold") -> timedelta:
        """The business time a deadline of `kind` gets; `priority` matters for the sales deadlines.
        A follow-up counts business days (see `sla.calendar.add_business_days`): its nominal
        allowance is recorded as that many days."""
        if kind == Deadline.Kind.FOLLOW_UP:
            return timedelta(days=self.follow_up_days)
        return timedelta(hours=float(self.hours(kind, priority)))

    def warn_after(self, allowed: timedelta) -> timedelta:
        """Business time after the start when the owner is warned."""
        return allowed * self.warning_percent / 100


class Handoff(models.Model):
    """One pass of the baton: a lead handed from marketing to sales, until sales closes it.

    A lead returned to marketing and handed off again gets a new Handoff, so each pass keeps its own
    deadlines and outcome.
    """

    class Outcome(models.TextChoices):
        CONVERTED = "converted", "Converted"
        RETURNED = "returned", "Returned to marketing"
        DISQUALIFIED = "disqualified", "Disqualified"
        # An escalation took the lead back from a late rep; the next pass starts in the queue.
        REQUEUED = "requeued", "Back to the queue after a breach"

    class Source(models.TextChoices):
        """Who opened the pass. Only marketing's hand-offs count in sales' acceptance: a lead put back in
        the queue is the same hand-off going round again, not a new one."""

        HAND_OFF = "hand_off", "Handed off by marketing"
        REQUEUE = "requeue", "Put back in the queue by a person"
        ESCALATION = "escalation", "Put back in the queue by an escalation"

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="handoffs")
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="The lead's campaign, copied so the dashboard's acceptance needs no join (read by "
        "handoff_returned_idx).",
    )
    handed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_off_at = models.DateTimeField(default=timezone.now)
    # A database default too: bulk fills (seed_scale) write rows without it.
    source = models.CharField(
        max_length=20, choices=Source.choices, default=Source.HAND_OFF, db_default=Source.HAND_OFF
    )
    note = models.TextField(blank=True, max_length=2000, help_text="For the rep who picks the lead up.")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="handoffs")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="claimed_handoffs"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    return_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "handoff_handoff"  # its table from before it left handoff/
        constraints = [
            # At most one open pass per lead.
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(closed_at__isnull=True), name="one_open_handoff_per_lead"
            )
        ]
        indexes = [
            models.Index(fields=["claimed_by", "claimed_at"]),
            # The dashboard's drill-down into the handoffs of a period, and its returned ones.
            models.Index(fields=["handed_off_at"], name="handoff_handed_off_at_idx"),
            # Covering the campaign, so a period's returned handoffs per campaign are an index-only scan.
            models.Index(
                fields=["handed_off_at"],
                name="handoff_returned_idx",
                condition=models.Q(outcome="returned"),
                include=["campaign"],
            ),
        ]

    def __str__(self) -> str:
        return f"Handoff of lead {self.lead_id} at {self.handed_off_at:%Y-%m-%d %H:%M}"


class DeadlineQuerySet(models.QuerySet):
    def running(self):
        """Deadlines not yet met or cancelled; a breached one is still running until it is met."""
        return self.filter(met_at__isnull=True, cancelled_at__isnull=True)

    def ticking(self):
        """Running deadlines whose clock is not paused (the lead is not on hold)."""
        return self.running().filter(paused_at__isnull=True)

    def due(self, now):
        """Ticking deadlines past their due time that the sweep has not yet marked breached: exactly
        the predicate of deadline_open_due_idx, so the sweep reads a range of that index."""
        return self.ticking().filter(breached_at__isnull=True, due_at__lte=now)

    def warning_due(self, now):
        """Ticking deadlines past their warning time, not yet warned and not breached: the predicate of
        deadline_warn_due_idx."""
        return self.ticking().filter(breached_at__isnull=True, warned_at__isnull=True, warn_at__lte=now)


# The sweep's conditions, shared by the partial indexes it reads.
_OPEN = models.Q(met_at__isnull=True, breached_at__isnull=True, cancelled_at__isnull=True, paused_at__isnull=True)


class Deadline(models.Model):
    """Something one side must do by a time, recorded on the handoff it belongs to.

    `allowed`, `given_due_at` and `warn_at` are worked out from the policy version when the deadline
    is set and never recomputed from a policy. The due time moves only when the clock is paused (the
    lead on hold): resuming adds exactly the business time spent paused (`paused_for`).
    A deadline ends exactly one of three ways: met, cancelled (the lead left the path), or — set once
    by the sweep — breached. A breached deadline can still be met late; `met_at` then records when.
    """

    class Kind(models.TextChoices):
        CLAIM = "claim", "Claim"
        FIRST_CONTACT = "first_contact", "First contact"
        FOLLOW_UP = "follow_up", "Returned-lead follow-up"

    SALES_KINDS = (Kind.CLAIM, Kind.FIRST_CONTACT)

    # No index of their own on handoff, lead and owner: one_deadline_per_kind_per_handoff and the
    # (lead, kind) and (owner, kind, due_at) indexes lead with them. Each index is written again at every
    # breach (the sweep's update is never HOT), and a storm writes 100,000 of them.
    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="deadlines", db_index=False)
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="deadlines", db_index=False)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="The lead's campaign, copied so the dashboard's figures need no join (read by deadline_decided_idx).",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="deadlines")
    priority = models.CharField(
        max_length=10, blank=True, help_text="The lead's priority tier when the clock started (sales deadlines)."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deadlines",
        db_index=False,
        help_text="Who must act: empty while the lead waits in the queue for any rep. A claim met by its due time "
        "by a person names who claimed the lead; one missed in the queue stays the queue's, whoever claims or "
        "is given the lead afterwards.",
    )
    starts_at = models.DateTimeField()
    allowed = models.DurationField()
    given_due_at = models.DateTimeField(help_text="The due time the deadline was given when it was set.")
    due_at = models.DateTimeField(help_text="The due time now: the given one, moved by any time on hold.")
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep recorded the warning.")
    paused_at = models.DateTimeField(null=True, blank=True, help_text="Set while the lead is on hold.")
    paused_for = models.DurationField(default=timedelta(0), help_text="Business time spent on hold so far.")
    met_at = models.DateTimeField(null=True, blank=True)
    met_by_escalation = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Met by an escalation (a claim: it gave the lead to someone), not by a person; the dashboard "
        "shows it beside people's figures, never inside them.",
    )
    breached_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep recorded the breach.")
    breach_notified_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    business_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Business time from the start to when it was met, time on hold left out; set when it is met.",
    )

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        db_table = "handoff_deadline"  # its table from before it left handoff/
        constraints = [
            models.UniqueConstraint(fields=["handoff", "kind"], name="one_deadline_per_kind_per_handoff"),
            models.CheckConstraint(
                condition=models.Q(due_at__gte=models.F("starts_at")), name="deadline_due_after_start"
            ),
        ]
        indexes = [
            # The sweep's breaches: open, ticking deadlines by due time. Partial, so its size is the
            # number of running deadlines, not of all deadlines ever set.
            models.Index(fields=["due_at"], name="deadline_open_due_idx", condition=_OPEN),
            # The sweep's warnings: ticking deadlines not yet warned, by warning time.
            models.Index(
                fields=["warn_at"],
                name="deadline_warn_due_idx",
                condition=_OPEN & models.Q(warned_at__isnull=True, warn_at__isnull=False),
            ),
            # The dashboard's "warned": ticking deadlines warned and not yet due, by due time. Partial, so
            # it holds the few warned clocks, not every running one (which the open index would filter).
            models.Index(
                fields=["due_at"], name="deadline_warned_open_idx", condition=_OPEN & models.Q(warned_at__isnull=False)
            ),
            # Breaches whose notice has not gone out: the re-enqueue of notices whose task was lost.
            models.Index(
                fields=["breached_at"],
                name="deadline_breach_unnotified_idx",
                condition=models.Q(breached_at__isnull=False, breach_notified_at__isnull=True),
            ),
            # The queue: unclaimed leads, most urgent claim deadline first (breached ones included).
            models.Index(
                fields=["due_at"],
                name="deadline_unclaimed_idx",
                condition=models.Q(kind="claim", met_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(fields=["owner", "kind", "due_at"]),
            models.Index(fields=["lead", "kind"]),
            # My leads: each claimed or held lead's running first-contact clock, read from the index alone.
            models.Index(
                fields=["lead"],
                include=["due_at", "paused_at"],
                name="deadline_contact_running_idx",
                condition=models.Q(kind="first_contact", met_at__isnull=True, cancelled_at__isnull=True),
            ),
            # The dashboard's live part: clocks still running after the sweep recorded their breach (the
            # ones not yet recorded are in deadline_open_due_idx). Never a candidate for the sweep's query.
            models.Index(
                fields=["due_at"],
                name="deadline_breached_running_idx",
                condition=models.Q(breached_at__isnull=False, met_at__isnull=True, cancelled_at__isnull=True),
            ),
            # The dashboard's "escalations caused": breached deadlines by due time, with what the figures
            # group by and the key the steps join on. Escalation steps exist only for a breached deadline
            # (the sweep opens them in the breach's transaction) and a breach is never undone, so a period
            # reads its own breaches from here, not every deadline of its kinds (no index has a bare due
            # time).
            models.Index(
                fields=["due_at"],
                name="deadline_breached_due_idx",
                include=["id", "kind", "owner", "campaign"],
                condition=models.Q(breached_at__isnull=False),
            ),
            # Recent breaches: the dashboard's detection delay over the last days, from the index alone
            # (`enforcement.health.breach_detection_delay` counts ids and sorts breached_at - due_at).
            models.Index(
                fields=["breached_at"],
                name="deadline_breached_idx",
                include=["due_at", "id"],
                condition=models.Q(breached_at__isnull=False),
            ),
            # The dashboard's periods: a deadline counts when it was decided (see `decided_at`). Covering
            # what the figures read, so a period is one index-only range scan, no join.
            models.Index(
                "kind",
                Least("met_at", "due_at"),
                name="deadline_decided_idx",
                include=[
                    "owner",
                    "campaign",
                    "met_at",
                    "due_at",
                    "breached_at",
                    "cancelled_at",
                    "paused_at",
                    "business_seconds",
                    "met_by_escalation",
                ],
            ),
            # The dashboard's percentiles: the business time of deadlines met by people, by when they were
            # decided. An index-only scan of an expression needs the columns it is made of (met_at, due_at)
            # in the index too: without them the planner read the wider deadline_decided_idx instead
            # (5,341 pages for 90 days at 1M, against 1,900 here).
            models.Index(
                "kind",
                Least("met_at", "due_at"),
                name="deadline_met_seconds_idx",
                include=["met_at", "due_at", "business_seconds", "owner", "campaign"],
                condition=models.Q(business_seconds__isnull=False, met_by_escalation=False),
            ),
            # The dashboard's acceptance: claim clocks by when they started (the hand-off).
            models.Index(
                fields=["starts_at"],
                name="deadline_claim_started_idx",
                condition=models.Q(kind="claim"),
                include=["campaign", "lead", "met_at", "due_at", "cancelled_at"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} deadline of lead {self.lead_id} due {self.due_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.given_due_at is None:
            self.given_due_at = self.due_at
        super().save(*args, **kwargs)

    @property
    def is_running(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def detection_delay(self) -> timedelta | None:
        """How long after its due time the sweep recorded the breach."""
        return self.breached_at - self.due_at if self.breached_at else None

    @classmethod
    def decided_at(cls) -> Least:
        """When a deadline was decided, for counting it in a period: when it was met if that was by its
        due time, else its due time (missed then, met late or not). Matches `deadline_decided_idx`."""
        return Least("met_at", "due_at")

    def is_missed(self, now: datetime) -> bool:
        """Late as the dashboard counts it (definition 1): decided — met, or neither on hold nor
        cancelled by its due time — and not met by its due time, which has passed. What may be appealed."""
        if self.due_at > now or (self.met_at is not None and self.met_at <= self.due_at):
            return False
        if self.met_at is not None:
            return True
        return self.paused_at is None and (self.cancelled_at is None or self.cancelled_at > self.due_at)

    def time_left(self, now=None) -> timedelta:
        return self.due_at - (now or timezone.now())


class Escalation(models.Model):
    """One step of the escalation of one breached sales deadline, in the order of its policy.

    Created (all steps at once) by the sweep in the breach's transaction; each step runs in its own
    Celery task, which enqueues the next one after it commits. `done_at` is set once, in the same
    transaction as the step's effect, so a step retried after a crash or delivered twice runs once.
    """

    # No index of its own: the two unique constraints lead with the deadline (a storm writes 300,000 steps).
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, related_name="escalations", db_index=False)
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="escalations")
    step = models.CharField(max_length=20, choices=EscalationStep.choices)
    position = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True, help_text="What the step did, or why it did nothing.")

    class Meta:
        db_table = "handoff_escalation"  # its table from before it left handoff/
        ordering = ["deadline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "step"], name="one_escalation_step_per_deadline"),
            models.UniqueConstraint(fields=["deadline", "position"], name="one_escalation_position_per_deadline"),
        ]
        indexes = [
            # Steps still to run, for the re-enqueue of steps whose task message was lost.
            models.Index(fields=["created_at"], name="escalation_pending_idx", condition=models.Q(done_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} for deadline {self.deadline_id}"
