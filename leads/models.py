from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    MQL = "mql", "MQL"
    HANDED_OFF = "handed_off", "Waiting in queue"
    CLAIMED = "claimed", "Claimed"
    CONTACTED = "contacted", "Contacted"
    CONVERTED = "converted", "Converted"
    RETURNED = "returned", "Returned to marketing"
    DISQUALIFIED = "disqualified", "Disqualified"
    MERGED = "merged", "Merged into another lead"


class Lead(models.Model):
    """A contact captured by a campaign, on its way from marketing to a deal.

    The status only changes through `leads.transitions.transition`, which checks the move and
    writes the timeline event; nothing else assigns `status`.
    """

    Status = LeadStatus

    class Source(models.TextChoices):
        FORM = "form", "Added by hand"
        IMPORT = "import", "CSV import"
        INTAKE = "intake", "Web form"

    full_name = models.CharField("name", max_length=200)
    email = models.EmailField(max_length=254, help_text="Stored trimmed and lower-case: one lead per address.")
    company = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    company_size = models.PositiveIntegerField("company size (employees)", null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)
    capture_count = models.PositiveIntegerField(default=1, help_text="How many times the lead was captured.")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="leads")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        help_text="The sales rep working the lead.",
    )
    score = models.PositiveSmallIntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    score_overridden = models.BooleanField(
        default=False, help_text="Set by hand with a reason; the scoring rules leave it alone."
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_leads", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="lead_score_at_most_100"),
            models.CheckConstraint(condition=models.Q(status__in=LeadStatus.values), name="lead_status_valid"),
            # A lead captured again is the same lead: one live lead per (normalised) address.
            models.UniqueConstraint(
                fields=["email"], condition=models.Q(merged_into__isnull=True), name="one_live_lead_per_email"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["campaign", "-created_at", "-id"]),
            models.Index(fields=["-created_at", "-id"], name="lead_newest_first_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def get_absolute_url(self) -> str:
        return reverse("leads:detail", args=[self.pk])

    def timeline(self):
        """Every event of this lead and of the leads merged into it, oldest first."""
        ids, frontier = {self.pk}, [self.pk]
        while frontier:  # merges can chain: A into B, then B into C
            frontier = list(Lead.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
            ids.update(frontier)
        return LeadEvent.objects.filter(lead__in=ids).select_related("actor", "lead").order_by("created_at", "id")

    @property
    def is_open_for_sales(self) -> bool:
        return self.status in {self.Status.CLAIMED, self.Status.CONTACTED}


class LeadEvent(models.Model):
    """One line of a lead's timeline: who did what, when, from which status to which.

    Append-only: the model refuses updates and deletes, and so does a trigger in the database.
    """

    class Kind(models.TextChoices):
        CAPTURED = "captured", "Captured"
        CAPTURED_AGAIN = "captured_again", "Captured again"
        SCORED = "scored", "Score changed"
        MERGED = "merged", "Merged"
        QUALIFIED = "qualified", "Marked MQL"
        HANDED_OFF = "handed_off", "Handed to sales"
        CLAIMED = "claimed", "Claimed"
        CONTACTED = "contacted", "First contact"
        CONVERTED = "converted", "Converted"
        RETURNED = "returned", "Returned to marketing"
        DISQUALIFIED = "disqualified", "Disqualified"
        RENURTURED = "renurtured", "Back to nurturing"
        BREACH = "breach", "SLA breached"

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system (the SLA worker) acted.",
    )
    from_status = models.CharField(max_length=20, choices=Lead.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Lead.Status.choices, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["lead", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lead_id} · {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Timeline events are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Timeline events are never deleted.")

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return "SLA worker" if self.kind == self.Kind.BREACH else "Handoff (automatic)"
        return self.actor.get_full_name() or self.actor.username


class Deal(models.Model):
    """What a converted lead became."""

    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="deal")
    value = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=0), name="deal_value_not_negative")]

    def __str__(self) -> str:
        return f"{self.value} {self.currency} · {self.lead}"
