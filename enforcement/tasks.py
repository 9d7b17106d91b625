"""Celery tasks of the SLA's enforcement: thin, idempotent wrappers that load by id and call the service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from enforcement import escalation, notices, sweep
from notifications.tasks import mail_task

# The database going away mid-step rolls the step back whole; it is retried, and runs once. Steps go
# to their own queue and worker (settings.ESCALATION_QUEUE), a set of deadlines per message.
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


@mail_task
def notify_breach(deadline_id: int) -> bool:
    return notices.breach_notify(deadline_id=deadline_id)


@shared_task(acks_late=True, ignore_result=True)
def requeue_lost_breach_notices() -> int:
    """Run by beat every few minutes: the safety net for notices whose task message was lost."""
    return sweep.breach_notices_requeue()


@mail_task
def notify_warnings(deadline_ids: list[int]) -> int:
    """Warn the owners of a sweep's batch of warned deadlines; each warning notifies once."""
    return sum(notices.warning_notify(deadline_id=deadline_id) for deadline_id in deadline_ids)
