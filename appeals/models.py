"""Appeals of breaches and their rulings: evidence, like the lead timeline, so both are append-only.

An appeal is made once per missed deadline by the person it is charged to (or their manager); a ruling
is given once per appeal by the other department's head or a manager designated to rule. A ruling is a
row of its own, not a field filled in later: the appeal as made is never rewritten, and the database
refuses a second ruling (one per appeal) and any edit (a trigger, see migration 0001).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from common.models import AppendOnly
from people.roles import Role, has_role
from sla.models import Department


def other_department(side: str) -> str:
    """Who rules on `side`'s appeals: the other party to the agreement."""
    return Department.MARKETING if side == Department.SALES else Department.SALES


class Appeal(AppendOnly):
    """A breach contested: which deadline, whose breach it was, who appealed and why."""

    record_name = "Appeals"

    deadline = models.OneToOneField(
        "sla.Deadline", on_delete=models.PROTECT, related_name="appeal", help_text="One appeal per missed deadline."
    )
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="appeals")
    side = models.CharField(
        max_length=20,
        choices=Department.choices,
        help_text="Whose breach: sales' (claim, first contact) or marketing's.",
    )
    charged_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who held the deadline when it fell due; empty for a claim missed in the queue.",
    )
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Appeal of deadline {self.deadline_id} by {self.appellant}"

    @property
    def ruled_by_department(self) -> str:
        return other_department(self.side)


class Ruling(models.TextChoices):
    UPHELD = "upheld", "Upheld: the breach is excused"
    DISMISSED = "dismissed", "Dismissed: the breach stands"


class AppealRuling(AppendOnly):
    """The other department's decision on an appeal, with its reasons. One per appeal, never edited."""

    record_name = "Rulings"

    appeal = models.OneToOneField(Appeal, on_delete=models.PROTECT, related_name="ruling")
    outcome = models.CharField(max_length=10, choices=Ruling.choices)
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The dashboard's ruled figures: the upheld appeals (few), joined to their deadlines.
            models.Index(fields=["appeal"], name="appeal_ruling_upheld_idx", condition=models.Q(outcome="upheld"))
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} · appeal {self.appeal_id}"


class Arbiter(models.Model):
    """A manager designated to rule on appeals of one department's breaches, beside the other
    department's head (who rules on them anyway). Set in the admin: data, not code."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rules_on = models.CharField(
        "rules on appeals of",
        max_length=20,
        choices=Department.choices,
        help_text="Whose breaches: sales' appeals are ruled for marketing, marketing's for sales.",
    )

    class Meta:
        verbose_name = "manager designated for rulings"
        verbose_name_plural = "managers designated for rulings"
        constraints = [models.UniqueConstraint(fields=["user", "rules_on"], name="one_arbiter_per_side")]

    def __str__(self) -> str:
        return f"{self.user} rules on {self.get_rules_on_display().lower()}'s appeals"

    def clean(self):
        if self.user_id is not None and not has_role(self.user, Role.MANAGERS):
            raise ValidationError({"user": "Only a manager (in the Managers group) may be designated to rule."})
