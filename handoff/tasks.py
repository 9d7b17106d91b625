"""Celery tasks: thin, idempotent wrappers that load by id and call the service."""

from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import escalation, notifications, sweep, targets

# Tasks that send mail: idempotent, so a mail server that is down is retried with backoff.
mail_task = shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=8
)


@shared_task(acks_late=True, ignore_result=True)
def sweep_deadlines() -> int:
    """Run by beat every SLA_SWEEP_INTERVAL seconds; safe to run concurrently and repeatedly."""
    return sweep.sweep_deadlines()


@shared_task(
    acks_late=True,
    ignore_result=True,
    # The database going away mid-step rolls the step back whole; it is retried, and runs once.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def run_escalation(deadline_id: int) -> bool:
    """Run the next escalation step of a breached deadline; it enqueues the step after it."""
    return escalation.escalation_step_run(deadline_id=deadline_id) is not None


@shared_task(acks_late=True, ignore_result=True)
def requeue_stuck_escalations() -> int:
    """Run by beat every 5 minutes: the safety net for escalation steps whose task message was lost."""
    return escalation.escalations_requeue_stuck()


@shared_task(acks_late=True, ignore_result=True)
def check_campaign_targets() -> int:
    """Run by beat on the 1st of each month for the month just ended; a second run notifies nobody again."""
    return targets.campaign_targets_check()


@mail_task
def notify_breach(deadline_id: int) -> bool:
    return notifications.breach_notify(deadline_id=deadline_id)


@shared_task(acks_late=True, ignore_result=True)
def requeue_lost_breach_notices() -> int:
    """Run by beat every few minutes: the safety net for notices whose task message was lost."""
    return sweep.breach_notices_requeue()


@mail_task
def notify_warning(deadline_id: int) -> bool:
    return notifications.warning_notify(deadline_id=deadline_id)


@mail_task
def send_notification_email(notification_id: int) -> bool:
    return notifications.notification_email_send(notification_id=notification_id)


@mail_task
def send_digests(mode: str) -> int:
    """Run by beat hourly and daily; a retry after a mail-server failure sends only what is still waiting."""
    return notifications.digests_send(mode=mode)
