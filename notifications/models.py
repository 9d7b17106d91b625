import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted; read from disk once per process."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "“%(value)s” is not a time zone we know; pick one from the list.", params={"value": value}
        )


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Notification(models.Model):
    """Something one user should know about, shown in their notification centre and perhaps emailed.

    How it is emailed (`delivery`) is decided from the user's preferences when it is created; `emailed_at`
    is set once, by whichever email (single or digest) carried it.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", "SLA warning"
        BREACH = "breach", "SLA breach"
        RETURNED = "returned", "Lead returned"
        ASSIGNED = "assigned", "Lead assigned"
        ESCALATION = "escalation", "SLA escalation"
        TARGET = "target", "Target missed"
        INTEGRATION = "integration", "Alert channel or webhook disabled"
        COUNTS = "counts", "Counts out of step"

    class Delivery(models.TextChoices):
        IN_APP = "in_app", "In the app only"
        EMAIL = "email", "Email now"
        DIGEST = "digest", "In the next digest"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="Path inside Handoff, usually the lead's page.")
    key = models.CharField(
        max_length=100, blank=True, help_text="What the notification is about, so the same event never notifies twice."
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.IN_APP)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took the single email to send; stops a second send."
    )
    # A default in the database too: the sweep writes notices with INSERT … SELECT.
    count = models.PositiveIntegerField(
        default=1,
        db_default=1,
        help_text="How many events it tells of: one, or a storm's many breaches in one summary.",
    )

    class Meta:
        db_table = "handoff_notification"  # its table from before it left handoff/
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="one_notification_per_user_and_key"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "warning",
                        "breach",
                        "returned",
                        "assigned",
                        "escalation",
                        "target",
                        "integration",
                        "counts",
                    ]
                ),
                name="notification_kind_valid",
            ),
        ]
        indexes = [
            # The unread badge on every page.
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_unread_idx"),
            # The notification centre, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox_idx"),
            # Single emails not sent yet: the safety net that sends those whose task failed or was lost.
            models.Index(
                fields=["created_at"],
                name="notification_email_unsent_idx",
                condition=models.Q(delivery="email", emailed_at__isnull=True),
            ),
            # What the digests still have to send.
            models.Index(
                fields=["user", "created_at"],
                name="notification_digest_due_idx",
                condition=models.Q(delivery="digest", emailed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}: {self.title}"

    def get_absolute_url(self) -> str:
        return self.url

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class UserPreferences(models.Model):
    """One user's own settings: the time zone every time is shown in, and which emails they get.

    Users without a row have the defaults (see `notifications.services.preferences_for`); the row is created the
    first time they open their preferences.
    """

    class EmailMode(models.TextChoices):
        EACH = "each", "One email per notification"
        HOURLY = "hourly", "An hourly digest"
        DAILY = "daily", "A daily digest"

    # Which switch says a user wants emails about a kind of notification. An escalation follows a
    # breach, and a missed campaign target is a breach of the SLA's marketing side: whoever wants
    # breach emails wants these. Counts out of step put every SLA figure in doubt: the same.
    EMAIL_SWITCHES = {
        Notification.Kind.WARNING: "email_warnings",
        Notification.Kind.BREACH: "email_breaches",
        Notification.Kind.ESCALATION: "email_breaches",
        Notification.Kind.TARGET: "email_breaches",
        Notification.Kind.INTEGRATION: "email_breaches",
        Notification.Kind.COUNTS: "email_breaches",
        Notification.Kind.RETURNED: "email_returned",
        Notification.Kind.ASSIGNED: "email_assigned",
    }

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    email_warnings = models.BooleanField("email SLA warnings", default=True)
    email_breaches = models.BooleanField("email SLA breaches", default=True)
    email_returned = models.BooleanField("email leads returned by sales", default=True)
    email_assigned = models.BooleanField("email leads assigned to me", default=True)
    email_mode = models.CharField("how emails arrive", max_length=10, choices=EmailMode.choices, default=EmailMode.EACH)

    class Meta:
        db_table = "handoff_userpreferences"  # its table from before it left handoff/
        verbose_name_plural = "user preferences"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email_mode__in=["each", "hourly", "daily"]), name="preferences_email_mode_valid"
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    def delivery_for(self, kind: str) -> str:
        """How a new notification of `kind` reaches this user by email, if at all."""
        if not getattr(self, self.EMAIL_SWITCHES[kind]) or not self.user.email:
            return Notification.Delivery.IN_APP
        return Notification.Delivery.EMAIL if self.email_mode == self.EmailMode.EACH else Notification.Delivery.DIGEST

    @classmethod
    def delivery_sql(cls, kind: str, *, preferences: str, user: str) -> tuple[str, list]:
        """`delivery_for` as an SQL expression, for notices written with `INSERT … SELECT`: `preferences`
        and `user` are the aliases of the user's preferences row (LEFT JOINed: a user without one has
        the defaults) and of the user."""
        switch = cls._meta.get_field(cls.EMAIL_SWITCHES[kind])
        mode = cls._meta.get_field("email_mode")
        sql = (
            f"CASE WHEN NOT COALESCE({preferences}.{switch.column}, %s) OR COALESCE({user}.email, '') = '' THEN %s "
            f"WHEN COALESCE({preferences}.{mode.column}, %s) = %s THEN %s ELSE %s END"
        )
        return sql, [
            switch.default,
            Notification.Delivery.IN_APP,
            mode.default,
            cls.EmailMode.EACH,
            Notification.Delivery.EMAIL,
            Notification.Delivery.DIGEST,
        ]
