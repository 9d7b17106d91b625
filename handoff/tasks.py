"""Celery tasks: thin, idempotent wrappers that load by id and call the service."""

from smtplib import SMTPException

from celery import shared_task

from . import notifications, sweep

# Tasks that send mail: idempotent, so a mail server that is down is retried with backoff.
mail_task = shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=8
)


@shared_task(acks_late=True, ignore_result=True)
def sweep_deadlines() -> int:
    """Run by beat every SLA_SWEEP_INTERVAL seconds; safe to run concurrently and repeatedly."""
    return sweep.sweep_deadlines()


@mail_task
def notify_breach(deadline_id: int) -> bool:
    return notifications.breach_notify(deadline_id=deadline_id)


@mail_task
def send_notification_email(notification_id: int) -> bool:
    return notifications.notification_email_send(notification_id=notification_id)


@mail_task
def send_digests(mode: str) -> int:
    """Run by beat hourly and daily; a retry after a mail-server failure sends only what is still waiting."""
    return notifications.digests_send(mode=mode)
