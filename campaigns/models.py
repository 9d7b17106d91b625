import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from common.daterange import stored_day_in_range


def new_intake_key() -> str:
    return secrets.token_urlsafe(9)


class Campaign(models.Model):
    """A marketing campaign that captures leads; campaigns run for months."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SOCIAL = "social", "Social"
        PAID_ADS = "paid_ads", "Paid ads"
        CONTENT = "content", "Content / web"
        EVENT = "event", "Event / trade fair"
        PRINT = "print", "Print"
        REFERRAL = "referral", "Referral"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Leave empty for an open-ended campaign.")
    budget = models.DecimalField("planned budget", max_digits=12, decimal_places=2, default=0)
    actual_spend = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    objective = models.TextField(blank=True, max_length=1000)
    target_audience = models.CharField(max_length=300, blank=True)
    target_mqls_per_month = models.PositiveIntegerField("target MQLs per month", default=0)
    description = models.TextField(blank=True, max_length=5000)
    # Web-to-lead intake: the key names the campaign in the URL (public); the token proves the post
    # comes from our landing page. Only the token's SHA-256 is stored; a marketer can rotate it.
    intake_key = models.CharField(max_length=32, unique=True, default=new_intake_key, editable=False)
    intake_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    intake_token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    utm_source = models.CharField("UTM source", max_length=100, blank=True)
    utm_medium = models.CharField("UTM medium", max_length=100, blank=True)
    utm_campaign = models.CharField("UTM campaign", max_length=100, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="campaign_ends_after_start",
            ),
            models.CheckConstraint(condition=models.Q(budget__gte=0), name="campaign_budget_not_negative"),
            models.CheckConstraint(condition=models.Q(actual_spend__gte=0), name="campaign_spend_not_negative"),
            models.CheckConstraint(condition=stored_day_in_range("start_date"), name="campaign_start_date_in_range"),
            models.CheckConstraint(condition=stored_day_in_range("end_date"), name="campaign_end_date_in_range"),
        ]
        indexes = [models.Index(fields=["status", "-start_date"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.pk])

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The campaign cannot end before it starts."})

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED

    def rotate_intake_token(self) -> str:
        """Issue a new intake token, invalidating the old one; returns it (it is shown only once)."""
        token = secrets.token_urlsafe(32)
        self.intake_token_hash = hash_token(token)
        self.intake_token_rotated_at = timezone.now()
        self.save(update_fields=["intake_token_hash", "intake_token_rotated_at", "updated_at"])
        return token

    def intake_token_matches(self, token: str) -> bool:
        return bool(self.intake_token_hash) and secrets.compare_digest(self.intake_token_hash, hash_token(token))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ScoringRule(models.Model):
    """One rule of the lead score: a condition and the points it adds (or takes away)."""

    class Kind(models.TextChoices):
        FIELD_PRESENT = "field_present", "Field is filled in"
        TITLE_KEYWORD = "title_keyword", "Job title contains"
        COMPANY_SIZE = "company_size", "Company size at least"
        CHANNEL = "channel", "Captured by channel"
        REPEAT_CAPTURE = "repeat_capture", "Captured at least N times"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(
        max_length=100,
        help_text="Field name (phone, company, job_title…), keyword, minimum employees, channel, or N.",
    )
    points = models.SmallIntegerField(help_text="May be negative.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=-100, points__lte=100), name="scoring_rule_points_in_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} “{self.value}”: {self.points:+d}"

    def clean(self) -> None:
        """What `value` means depends on the kind; refuse values the scorer could never match."""
        from .scoring import SCORABLE_FIELDS

        value = (self.value or "").strip()
        problem = None
        if self.kind == self.Kind.FIELD_PRESENT and value not in SCORABLE_FIELDS:
            problem = f"Choose one of: {', '.join(SCORABLE_FIELDS)}."
        elif self.kind in (self.Kind.COMPANY_SIZE, self.Kind.REPEAT_CAPTURE) and not value.isdigit():
            problem = "Enter a whole number."
        elif self.kind == self.Kind.CHANNEL and value not in Campaign.Channel.values:
            problem = f"Choose one of: {', '.join(Campaign.Channel.values)}."
        elif self.kind == self.Kind.TITLE_KEYWORD and not value:
            problem = "Enter a keyword."
        if problem:
            raise ValidationError({"value": problem})
        self.value = value


class QualificationPolicy(models.Model):
    """When a lead becomes an MQL by its score. The newest row is in force."""

    mql_threshold = models.PositiveSmallIntegerField(
        "MQL threshold", default=60, help_text="A lead whose score reaches this becomes an MQL automatically."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "qualification policies"
        constraints = [
            models.CheckConstraint(condition=models.Q(mql_threshold__lte=100), name="mql_threshold_at_most_100")
        ]

    def __str__(self) -> str:
        return f"MQL at score {self.mql_threshold}"

    @classmethod
    def current(cls) -> "QualificationPolicy":
        # The intake reads the same newest row in SQL of its own (`campaigns.intake.CAMPAIGN_FOR_POST`).
        return cls.objects.order_by("-created_at", "-id").first() or cls.objects.create()


class ImportJob(models.Model):
    """A CSV upload: validated for a preview, then imported by a Celery task with progress."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting for confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    # Kept in the database (files are at most 20 MB) so any worker on any machine can read it, until
    # the retention job empties it (campaigns/retention.py); counts and problems stay for the page.
    content = models.BinaryField()
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When the uploaded file was dropped.")
    encoding = models.CharField(max_length=40, blank=True, help_text="How the file was read, e.g. UTF-8.")
    delimiter = models.CharField(max_length=1, default=",")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="[{line, column, reason}]: the first problems found, for the preview."
    )
    problem_count = models.PositiveIntegerField(default=0, help_text="All problems found, shown or not.")
    failure = models.TextField(blank=True)
    # Whoever confirmed is the actor of the capture (any marketer may confirm another's upload).
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_rows__lte=models.F("total_rows")), name="import_valid_rows_at_most_total"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} → {self.campaign}"

    def get_absolute_url(self) -> str:
        return reverse("campaigns:import_detail", args=[self.pk])

    @property
    def bad_rows(self) -> int:
        return self.total_rows - self.valid_rows

    @property
    def is_in_progress(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def delimiter_name(self) -> str:
        names = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
        return names.get(self.delimiter, self.delimiter)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.processed_rows * 100 // self.valid_rows) if self.valid_rows else 0


class IntakeRequest(models.Model):
    """The first answer to a web-to-lead post with an Idempotency-Key, replayed on a retry."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="intake_requests")
    idempotency_key = models.CharField(max_length=200)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "idempotency_key"], name="one_answer_per_idempotency_key")
        ]
        # The retention job drops the old ones.
        indexes = [models.Index(fields=["created_at"], name="intake_request_created_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.idempotency_key} → {self.status_code}"
