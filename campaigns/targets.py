"""Marketing's side of the agreement, checked each month: campaigns' MQL targets and sales' acceptance.

Months are calendar months in the site's zone (settings.TIME_ZONE), whoever looks: a target is one
number for the whole company, so its month cannot depend on the reader's zone.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.queries import Acceptance, acceptance_by_campaign, mqls_by_campaign
from leads.assignment import active_managers
from leads.targets import add_months, month_bounds, month_start
from notifications.models import Notification
from notifications.services import notify
from sla.models import SlaPolicy


@dataclass(frozen=True)
class Month:
    """A calendar month in the site's zone: `start` included, `end` (the next month's start) not."""

    first_day: datetime.date
    start: datetime.datetime
    end: datetime.datetime

    @classmethod
    def of(cls, when: datetime.date) -> "Month":
        """The month `when` falls in (an aware datetime is read in the configured zone)."""
        first_day = month_start(when)
        start, end = month_bounds(first_day)
        return cls(first_day=first_day, start=start, end=end)

    def previous(self) -> "Month":
        return Month.of(add_months(self.first_day, -1))

    @property
    def last_day(self) -> datetime.date:
        return add_months(self.first_day, 1) - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.first_day:%B %Y}"

    def share_gone(self, now: datetime.datetime) -> float:
        """How much of the month has passed at `now`, in percent (0 before it, 100 after it)."""
        passed = min(max(now - self.start, datetime.timedelta(0)), self.end - self.start)
        return round(100 * passed / (self.end - self.start), 1)


def campaigns_running_in(month: Month) -> QuerySet[Campaign]:
    """Campaigns not archived that ran on some day of `month`."""
    return (
        Campaign.objects.exclude(status=Campaign.Status.ARCHIVED)
        .filter(start_date__lte=month.last_day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=month.first_day))
    )


def campaign_targets_check(*, now: datetime.datetime | None = None) -> int:
    """For the month before `now`'s, tell each campaign's owner and the managers when the campaign fell
    short of its MQL target or sales accepted a smaller share of its leads than the policy's target.
    Returns how many notifications were created; safe to run again (each has a key per campaign and
    month, so a second run creates none)."""
    now = now or timezone.now()
    month = Month.of(now).previous()
    campaigns = list(campaigns_running_in(month).select_related("owner").order_by("pk"))
    if not campaigns:
        return 0
    target = SlaPolicy.current().acceptance_target_percent
    mqls = mqls_by_campaign(
        first_day=month.first_day, last_day=month.last_day, where=Q(campaign__in=campaigns_running_in(month))
    )
    accepted = acceptance_by_campaign(start=month.start, end=month.end, campaigns=campaigns_running_in(month))
    managers = list(active_managers())
    created = 0
    for campaign in campaigns:
        recipients = {user.pk: user for user in [campaign.owner, *managers] if user.is_active}.values()
        made = mqls.get(campaign.pk, 0)
        if campaign.target_mqls_per_month and made < campaign.target_mqls_per_month:
            created += _tell(
                recipients,
                key=f"mql-target:{campaign.pk}:{month.first_day:%Y-%m}",
                title=f"MQL target missed: {campaign.name}, {month.label}",
                body=(
                    f"Campaign “{campaign.name}” made {made} MQL{'s' if made != 1 else ''} in {month.label}, "
                    f"short of its target of {campaign.target_mqls_per_month} a month."
                ),
            )
        acceptance = accepted.get(campaign.pk, Acceptance())
        if acceptance.rate is not None and acceptance.rate < target:
            created += _tell(
                recipients,
                key=f"acceptance:{campaign.pk}:{month.first_day:%Y-%m}",
                title=f"Acceptance below target: {campaign.name}, {month.label}",
                body=(
                    f"Sales accepted {acceptance.accepted} of the {acceptance.handed_off} leads of campaign "
                    f"“{campaign.name}” handed off in {month.label} ({acceptance.rate:g} %), below the SLA "
                    f"policy's target of {target} %."
                ),
            )
    return created


def _tell(recipients, *, key: str, title: str, body: str) -> int:
    sent = [notify(user=user, kind=Notification.Kind.TARGET, title=title, body=body, key=key) for user in recipients]
    return sum(notification is not None for notification in sent)
