"""Celery tasks: thin, idempotent wrappers that load by id and call the service."""

from smtplib import SMTPException

from celery import shared_task

from . import notifications, sweep


@shared_task(acks_late=True, ignore_result=True)
def sweep_deadlines() -> int:
    """Run by beat every SLA_SWEEP_INTERVAL seconds; safe to run concurrently and repeatedly."""
    return sweep.sweep_deadlines()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def notify_breach(deadline_id: int) -> bool:
    return notifications.breach_notify(deadline_id=deadline_id)
