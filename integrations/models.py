"""Where Handoff sends what happens: webhook endpoints and Slack/Teams channels, the outbox the
database fills in the transaction of each change, and the deliveries with every attempt.

The outbox is written by PostgreSQL triggers (migration 0002) on the lead timeline and the SLA policy
table, and only for event types an enabled endpoint or channel subscribes to: the change and its
outbox row commit together or not at all, whoever writes (the lead services, the sweep's set-based
SQL), and with no subscriber nothing is written.
"""

import secrets
from base64 import b64encode

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.urls import reverse
from django.utils import timezone


class EventType(models.TextChoices):
    """What an endpoint can subscribe to; the names are the payload's `type`."""

    LEAD_CAPTURED = "lead.captured", "Lead captured"
    LEAD_QUALIFIED = "lead.qualified", "Lead qualified (MQL)"
    LEAD_HANDED_OFF = "lead.handed_off", "Lead handed off to sales"
    LEAD_CLAIMED = "lead.claimed", "Lead claimed"
    LEAD_ASSIGNED = "lead.assigned", "Lead assigned to a rep"
    LEAD_CONTACTED = "lead.contacted", "First contact made"
    LEAD_RETURNED = "lead.returned", "Lead returned to marketing"
    LEAD_CONVERTED = "lead.converted", "Lead converted to a deal"
    DEADLINE_WARNED = "deadline.warned", "SLA deadline warned"
    DEADLINE_BREACHED = "deadline.breached", "SLA deadline breached"
    DEAL_STAGE_CHANGED = "deal.stage_changed", "Deal moved to another open stage"
    DEAL_WON = "deal.won", "Deal won"
    DEAL_LOST = "deal.lost", "Deal lost"
    POLICY_STARTED = "policy.started", "New SLA policy version in force"


# A test press sends this type; nobody subscribes to it.
TEST_EVENT = "handoff.test"

# The timeline kinds the outbox trigger maps to event types (a deal's stage change splits by its
# target stage in SQL). Kept here so the tests can check the trigger against it.
EVENT_OF_TIMELINE_KIND = {
    "captured": EventType.LEAD_CAPTURED,
    "qualified": EventType.LEAD_QUALIFIED,
    "handed_off": EventType.LEAD_HANDED_OFF,
    "claimed": EventType.LEAD_CLAIMED,
    "assigned": EventType.LEAD_ASSIGNED,
    "contacted": EventType.LEAD_CONTACTED,
    "returned": EventType.LEAD_RETURNED,
    "converted": EventType.LEAD_CONVERTED,
    "warning": EventType.DEADLINE_WARNED,
    "breach": EventType.DEADLINE_BREACHED,
}


class Alert(models.TextChoices):
    """What a Slack or Teams channel can be sent, as the people connecting one think of it."""

    BREACHES = "breaches", "Breaches"
    WARNINGS = "warnings", "Warnings"
    ASSIGNMENTS = "assignments", "Assignments (to me, or to the team's reps)"
    STORM_SUMMARIES = "storm_summaries", "Storm summaries (one message instead of many)"
    DAILY_DIGEST = "daily_digest", "Daily digest (07:00)"


# The alerts that come from an event on the timeline.
EVENT_OF_ALERT = {
    Alert.BREACHES: EventType.DEADLINE_BREACHED,
    Alert.WARNINGS: EventType.DEADLINE_WARNED,
    Alert.ASSIGNMENTS: EventType.LEAD_ASSIGNED,
}


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


class Target(models.Model):
    """What endpoints and channels share: on/off, the events wanted, and their health."""

    enabled = models.BooleanField(default=True)
    # Set when a failure follows a success; cleared by the next success. Failing for long disables.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    # The name its pages go by in integrations/urls.py ("channel", "endpoint").
    page: str

    class Meta:
        abstract = True

    def get_absolute_url(self) -> str:
        return reverse(f"integrations:{self.page}", args=[self.pk])

    def action_url(self, action: str) -> str:
        """The page or button of `action` ("edit", "test", "delete") for this target."""
        return reverse(f"integrations:{self.page}_{action}", args=[self.pk])

    @property
    def edit_url(self) -> str:
        return self.action_url("edit")

    @property
    def test_url(self) -> str:
        return self.action_url("test")

    @property
    def delete_url(self) -> str:
        return self.action_url("delete")


class Endpoint(Target):
    """A URL of another system that receives the events it subscribes to, signed with its secret
    (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)."""

    class PayloadVersion(models.IntegerChoices):
        V1 = 1, "1 (2026-12-07)"

    name = models.CharField(max_length=100)
    url = models.URLField("URL", max_length=500)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    events = ArrayField(models.CharField(max_length=30, choices=EventType.choices), default=list)
    payload_version = models.PositiveSmallIntegerField(choices=PayloadVersion.choices, default=PayloadVersion.V1)

    page = "endpoint"

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Channel(Target):
    """A Slack or Teams channel, reached through its incoming-webhook URL, that a team's managers or
    one person connected."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, help_text="How you call the channel, e.g. #sales-alerts.")
    # The incoming-webhook URL is the channel's secret: whoever has it can post there. Never shown again.
    url = models.URLField("incoming-webhook URL", max_length=500)
    team = models.ForeignKey(
        "leads.SalesTeam", on_delete=models.CASCADE, null=True, blank=True, related_name="alert_channels"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_channels"
    )
    alerts = ArrayField(models.CharField(max_length=20, choices=Alert.choices), default=list, blank=True)
    # The event types of `alerts`, kept by `save` for the outbox trigger, which reads only this.
    events = ArrayField(models.CharField(max_length=30), default=list, blank=True, editable=False)

    page = "channel"

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=True, person__isnull=False)
                | models.Q(team__isnull=False, person__isnull=True),
                name="channel_belongs_to_a_team_or_a_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def save(self, *args, **kwargs):
        self.events = sorted(EVENT_OF_ALERT[alert] for alert in self.alerts if alert in EVENT_OF_ALERT)
        if "update_fields" in kwargs and "alerts" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "events"}
        super().save(*args, **kwargs)

    @property
    def owner_label(self) -> str:
        return f"team {self.team}" if self.team_id else "you"

    @property
    def alert_labels(self) -> list[str]:
        return [Alert(alert).label for alert in self.alerts]

    def wants(self, alert: str) -> bool:
        return alert in self.alerts


class OutboxEvent(models.Model):
    """Something happened that a subscriber wants: written by the database triggers in the change's
    own transaction, turned into deliveries (and deleted) by the relay."""

    event_type = models.CharField(max_length=30)
    lead_event = models.ForeignKey(
        "leads.LeadEvent", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False
    )
    policy = models.ForeignKey(
        "sla.SlaPolicy", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False
    )
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"


class Delivery(models.Model):
    """One message to one endpoint or channel, sent until it is accepted (at least once) or given up.

    The body is fixed when the delivery is made, so a retry and a replay send the same bytes under the
    same `message_id` (receivers deduplicate by it); the signature is made anew for each attempt.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    event_type = models.CharField(max_length=30)
    message_id = models.CharField(max_length=60)
    summary = models.CharField(max_length=300, help_text="What the message says, for the delivery log.")
    body = models.TextField(max_length=65536, help_text="The JSON posted, exactly as signed.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(endpoint__isnull=True, channel__isnull=False)
                | models.Q(endpoint__isnull=False, channel__isnull=True),
                name="delivery_goes_to_an_endpoint_or_a_channel",
            ),
        ]
        indexes = [
            # The relay's next deliveries due: a range of this partial index.
            models.Index(fields=["next_attempt_at"], name="delivery_due_idx", condition=models.Q(status="pending")),
            # A log page, newest first; a channel's alerts in the storm window.
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_idx"),
            models.Index(fields=["channel", "-created_at"], name="delivery_channel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} ({self.status})"

    @property
    def target(self) -> Endpoint | Channel:
        return self.endpoint or self.channel


class Attempt(models.Model):
    """One try at a delivery: when, what came back, and the signature it carried."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response = models.CharField(max_length=500, blank=True, help_text="The start of the answer's body.")
    duration_ms = models.PositiveIntegerField(default=0)
    timestamp = models.PositiveBigIntegerField(null=True, blank=True, help_text="webhook-timestamp sent.")
    signature = models.CharField(max_length=200, blank=True, help_text="webhook-signature sent.")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"attempt at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Storm(models.Model):
    """Alerts of one kind held back from a channel because too many came at once; one summary
    message tells the count when the window closes."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="storms")
    event_type = models.CharField(max_length=30)
    # For the summary's link and wording: the deadline kind for breaches and warnings ("claim").
    subject = models.CharField(max_length=30, blank=True)
    started_at = models.DateTimeField()
    last_at = models.DateTimeField()
    held = models.PositiveIntegerField(default=0)
    summarised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open storm per channel, type and subject: later alerts add to it.
            models.UniqueConstraint(
                fields=["channel", "event_type", "subject"],
                condition=models.Q(summarised_at__isnull=True),
                name="one_open_storm_per_channel_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.held} {self.event_type} held for channel {self.channel_id}"
