from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.models import Campaign
from leads.models import Lead
from sla.calendar import WEEKDAYS
from sla.tiers import Priority


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


class WorkingHours(models.Model):
    """A rep's own hours on one weekday (a part-timer, a late shift), wall times in their team
    calendar's zone. A rep with none works their team's hours; a rep with some works only inside both
    theirs and the team's (holidays included), and not at all on a weekday without a row."""

    WEEKDAYS = [(day, name) for day, name in enumerate(WEEKDAYS)]

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["rep", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "weekday"], name="one_working_hours_per_weekday"),
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="working_hours_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="working_hours_weekday_in_week"),
        ]

    def __str__(self) -> str:
        return f"{self.rep} {WEEKDAYS[self.weekday]} {self.starts:%H:%M}–{self.ends:%H:%M}"


class RoutingDecision(models.Model):
    """One automatic routing of a lead, kept whole: every rep considered with its verdict (chosen, or
    why not: off shift, time off, away, at capacity, not their turn, the rep who missed the deadline),
    and who got the lead, or nobody (it waits in the queue until `retry_at`, the first shift start)."""

    class Trigger(models.TextChoices):
        HAND_OFF = "hand_off", "Hand-off"
        ESCALATION = "escalation", "Escalation"
        SHIFT_START = "shift_start", "Shift start"
        REBALANCE = "rebalance", "Moved before the breach"

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
    rule = models.ForeignKey(
        "RoutingRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The rule that matched (its version is its rule set's); empty when no rules were set.",
    )
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


class RuleSet(models.Model):
    """One published version of the routing rules. Never edited: a change publishes a new version,
    and each routing decision names the version it was made under."""

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True, help_text="What changed, for the record.")
    owner_match_days = models.PositiveSmallIntegerField(
        "keep a company with its rep (days)",
        default=90,
        help_text="A lead from a company (by email domain) whose other lead a rep works now, or won or lost "
        "a deal with in this many days, goes to that rep when they are on shift with room. 0 turns it off.",
    )

    class Rebalance(models.TextChoices):
        OFF = "off", "Do nothing"
        PROPOSE = "propose", "Tell the team's manager"
        MOVE = "move", "Move the lead to a rep on shift with room"

    rebalance = models.CharField(
        "before a deadline nobody on shift can make",
        max_length=10,
        choices=Rebalance.choices,
        default=Rebalance.PROPOSE,
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Routing rules v{self.version}"

    @classmethod
    def current(cls) -> "RuleSet | None":
        return cls.objects.order_by("-version").first()


class RoutingRule(models.Model):
    """If a lead matches every condition set here, it goes to `team` (or to `rep` in it). Rules are
    tried in `position` order and the first match wins; a rule with no condition catches every lead
    (the default rule). A condition left empty matches anything."""

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Campaign.Channel.choices, blank=True)
    source = models.CharField(max_length=10, choices=Lead.Source.choices, blank=True)
    tier = models.CharField("score tier", max_length=10, choices=Priority.choices, blank=True)
    min_company_size = models.PositiveIntegerField(null=True, blank=True)
    max_company_size = models.PositiveIntegerField(null=True, blank=True)
    countries = models.CharField(
        "country is one of",
        max_length=200,
        blank=True,
        help_text="Countries or regions (comma-separated): a territory.",
    )
    title_words = models.CharField(
        "job title contains", max_length=200, blank=True, help_text="Any of these words (comma-separated)."
    )
    company_words = models.CharField(
        "company contains", max_length=200, blank=True, help_text="Any of these words (comma-separated)."
    )
    team = models.ForeignKey("leads.SalesTeam", on_delete=models.PROTECT, related_name="+")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A named rep of the team; empty for the team's turns.",
    )

    class Meta:
        ordering = ["ruleset", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ruleset", "position"], name="one_rule_per_position"),
            models.CheckConstraint(
                condition=models.Q(min_company_size__isnull=True)
                | models.Q(max_company_size__isnull=True)
                | models.Q(min_company_size__lte=models.F("max_company_size")),
                name="rule_company_sizes_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    @staticmethod
    def _words(text: str) -> list[str]:
        return [word.strip().lower() for word in text.split(",") if word.strip()]

    @property
    def is_catch_all(self) -> bool:
        return not any(
            (
                self.campaign_id,
                self.channel,
                self.source,
                self.tier,
                self.min_company_size is not None,
                self.max_company_size is not None,
                self._words(self.countries),
                self._words(self.title_words),
                self._words(self.company_words),
            )
        )

    def matches(self, lead, *, tier: str) -> bool:
        """Whether `lead` (its campaign loaded) meets every condition; `tier` is the lead's score tier."""
        size = lead.company_size
        title, company = lead.job_title.lower(), lead.company.lower()
        return (
            (not self.campaign_id or lead.campaign_id == self.campaign_id)
            and (not self.channel or lead.campaign.channel == self.channel)
            and (not self.source or lead.source == self.source)
            and (not self._words(self.countries) or lead.country.strip().lower() in self._words(self.countries))
            and (not self.tier or tier == self.tier)
            and (self.min_company_size is None or (size is not None and size >= self.min_company_size))
            and (self.max_company_size is None or (size is not None and size <= self.max_company_size))
            and (not self._words(self.title_words) or any(word in title for word in self._words(self.title_words)))
            and (
                not self._words(self.company_words) or any(word in company for word in self._words(self.company_words))
            )
        )
