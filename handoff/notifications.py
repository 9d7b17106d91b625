"""Emails the SLA worker sends."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import Deadline
from .roles import Role


def manager_emails() -> list[str]:
    users = get_user_model().objects.filter(groups__name=Role.MANAGERS, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def breach_notify(*, deadline_id: int) -> bool:
    """Email the managers about one breach, once. Returns False if it was already sent (or there is
    nobody to tell)."""
    with transaction.atomic():
        deadline = (
            Deadline.objects.select_for_update(of=("self",))
            .select_related("lead", "lead__campaign", "owner")
            .filter(pk=deadline_id, breached_at__isnull=False, breach_notified_at__isnull=True)
            .first()
        )
        if deadline is None:
            return False
        recipients = manager_emails()
        if recipients:
            lead = deadline.lead
            owner = (
                deadline.owner.get_full_name() or deadline.owner.username if deadline.owner else "nobody (in the queue)"
            )
            send_mail(
                subject=f"SLA breach: {deadline.get_kind_display().lower()} of {lead.full_name}",
                message=(
                    f"The {deadline.get_kind_display().lower()} deadline of lead {lead.full_name} "
                    f"({lead.company or lead.email}, campaign “{lead.campaign.name}”) was due "
                    f"{timezone.localtime(deadline.due_at):%Y-%m-%d %H:%M %Z} and was missed.\n"
                    f"Owner: {owner}\n\n"
                    f"Open the lead: {settings.SITE_URL}{reverse('leads:detail', args=[lead.pk])}\n"
                ),
                from_email=None,
                recipient_list=recipients,
            )
        deadline.breach_notified_at = timezone.now()
        deadline.save(update_fields=["breach_notified_at"])
    return bool(recipients)
