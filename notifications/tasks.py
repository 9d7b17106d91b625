"""Celery tasks of the notifications: thin, idempotent wrappers that load by id and call the service."""

from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from notifications import services

# Tasks that send mail: idempotent, so a mail server or a database that is down is retried with backoff
# (and what is still unsent after the retries, the safety net sends).
mail_task = shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError, OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)


@mail_task
def send_notification_email(notification_id: int) -> bool:
    return services.notification_email_send(notification_id=notification_id)


@mail_task
def send_notification_emails(notification_ids: list[int]) -> int:
    """Send the single emails of a batch of notifications; a retry sends only what is still unsent."""
    return sum(services.notification_email_send(notification_id=pk) for pk in notification_ids)


@shared_task(acks_late=True, ignore_result=True)
def resend_unsent_emails() -> int:
    """Run by beat every minute: the safety net for single emails whose task failed or was lost."""
    return services.notification_emails_resend()


@mail_task
def send_digests(mode: str) -> int:
    """Run by beat hourly and daily; a retry after a mail-server failure sends only what is still waiting."""
    return services.digests_send(mode=mode)
