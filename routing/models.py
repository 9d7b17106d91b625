from django.conf import settings
from django.db import models
from django.utils import timezone


class TimeOff(models.Model):
    """Days a rep is not working (holiday, sick day, training): routing passes them over, whatever
    their team's calendar says. Set by the rep or a manager; dates in the rep's team calendar's zone,
    both included."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    starts_on = models.DateField("from")
    ends_on = models.DateField("until", help_text="The last day off (included).")
    note = models.CharField(max_length=200, blank=True, help_text="Holiday, sick day, training …")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="time_off_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__gte="1900-01-01", ends_on__lte="2999-12-31"),
                name="time_off_dates_in_range",
            ),
        ]
        # Routing asks "who is off today" for a handful of reps: their rows ending today or later.
        indexes = [models.Index(fields=["rep", "ends_on"], name="time_off_rep_ends_idx")]

    def __str__(self) -> str:
        return f"{self.rep} off {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d}"


class RoutingDecision(models.Model):
    """One automatic routing of a lead, kept whole: every rep considered with its verdict (chosen, or
    why not: off shift, time off, away, at capacity, not their turn, the rep who missed the deadline),
    and who got the lead, or nobody (it waits in the queue until `retry_at`, the first shift start)."""

    class Trigger(models.TextChoices):
        HAND_OFF = "hand_off", "Hand-off"
        ESCALATION = "escalation", "Escalation"
        SHIFT_START = "shift_start", "Shift start"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="routing_decisions")
    decided_at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    chosen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "leads.SalesTeam",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The chosen rep's team when the lead was routed.",
    )
    # [{"rep": id, "name": "Ada Byron", "team": "Inside sales", "verdict": "off_shift", "detail": "…"}, …]
    considered = models.JSONField(default=list)
    note = models.TextField(max_length=4000)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="Nobody could take the lead: when the first shift starts, to try again."
    )

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [
            models.Index(fields=["-decided_at", "-id"], name="routing_log_idx"),
            models.Index(fields=["chosen", "-decided_at"], name="routing_log_rep_idx"),
            models.Index(fields=["lead", "-decided_at"], name="routing_lead_idx"),
            # Leads waiting for a shift to start: the beat job's range scan.
            models.Index(fields=["retry_at"], name="routing_retry_idx", condition=models.Q(retry_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.lead} → {self.chosen or 'the queue'} ({self.decided_at:%Y-%m-%d %H:%M})"
