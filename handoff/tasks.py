"""Celery tasks: thin, idempotent wrappers that load by id and call the service."""

from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import escalation, notifications, sweep, targets

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
# The database going away mid-step rolls the step back whole; it is retried, and runs once. A storm's
# thousands of steps queue behind its emails: their priority is set in CELERY_TASK_ROUTES.
escalation_task = shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)


@shared_task(acks_late=True, ignore_result=True)
def sweep_deadlines() -> int:
    """Run by beat every SLA_SWEEP_INTERVAL seconds on the sla queue; safe to run concurrently and
    repeatedly."""
    return sweep.sweep_deadlines()


@escalation_task
def run_escalation(deadline_id: int) -> bool:
    """Run the next escalation step of a breached deadline; it enqueues the step after it."""
    return escalation.escalation_step_run(deadline_id=deadline_id) is not None


@escalation_task
def run_escalations(deadline_ids: list[int]) -> int:
    """Run the next escalation step of each deadline of a sweep's batch; one task follows for the rest."""
    return escalation.escalations_run(deadline_ids=deadline_ids)


@shared_task(acks_late=True, ignore_result=True)
def requeue_stuck_escalations() -> int:
    """Run by beat every minute: the safety net for escalation steps whose task message was lost."""
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
def notify_warnings(deadline_ids: list[int]) -> int:
    """Warn the owners of a sweep's batch of warned deadlines; each warning notifies once."""
    return sum(notifications.warning_notify(deadline_id=deadline_id) for deadline_id in deadline_ids)


@mail_task
def send_notification_email(notification_id: int) -> bool:
    return notifications.notification_email_send(notification_id=notification_id)


@mail_task
def send_notification_emails(notification_ids: list[int]) -> int:
    """Send the single emails of a batch of notifications; a retry sends only what is still unsent."""
    return sum(notifications.notification_email_send(notification_id=pk) for pk in notification_ids)


@shared_task(acks_late=True, ignore_result=True)
def resend_unsent_emails() -> int:
    """Run by beat every minute: the safety net for single emails whose task failed or was lost."""
    return notifications.notification_emails_resend()


@mail_task
def send_digests(mode: str) -> int:
    """Run by beat hourly and daily; a retry after a mail-server failure sends only what is still waiting."""
    return notifications.digests_send(mode=mode)
