"""Changes to campaigns that are more than an edit: archiving and bringing back.

Nothing is ever deleted: a campaign's leads, imports and results stay. An archived campaign is hidden
from the default campaign list and takes no more leads (the intake answers 410).
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from people.roles import MARKETING_SIDE, has_role

from .models import Campaign


def _require_marketing_side(actor) -> None:
    if not has_role(actor, *MARKETING_SIDE):
        raise PermissionDenied("Only marketing and managers change campaigns.")


def _lock(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def campaign_archive(*, campaign: Campaign, actor) -> Campaign:
    """Archive the campaign; archiving an archived campaign changes nothing (its date stays)."""
    _require_marketing_side(actor)
    with transaction.atomic():
        campaign = _lock(campaign)
        if not campaign.is_archived:
            campaign.status = Campaign.Status.ARCHIVED
            campaign.archived_at = timezone.now()
            campaign.save(update_fields=["status", "archived_at", "updated_at"])
    return campaign


def status_after_archive(campaign: Campaign, today: datetime.date) -> str:
    """The status an unarchived campaign comes back in.

    The status it had before is not stored, so it comes back as the dates suggest: completed if it
    has ended, planned if it has not started, otherwise paused — never active, so it does not start
    taking leads again before someone decides it should.
    """
    if campaign.end_date is not None and campaign.end_date < today:
        return Campaign.Status.COMPLETED
    if campaign.start_date > today:
        return Campaign.Status.PLANNED
    return Campaign.Status.PAUSED


def campaign_unarchive(*, campaign: Campaign, actor) -> Campaign:
    """Bring an archived campaign back (see `status_after_archive`); a campaign not archived is left as it is."""
    _require_marketing_side(actor)
    with transaction.atomic():
        campaign = _lock(campaign)
        if campaign.is_archived:
            campaign.status = status_after_archive(campaign, timezone.localdate())
            campaign.archived_at = None
            campaign.save(update_fields=["status", "archived_at", "updated_at"])
    return campaign
