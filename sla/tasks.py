"""Celery tasks of the SLA agreement: thin wrappers around its services."""

from celery import shared_task

from sla.agreement import drafts_start_due


@shared_task(acks_late=True, ignore_result=True)
def start_signed_policies() -> int:
    """Run by beat every minute: drafts signed by both heads whose start has come are put in force."""
    return len(drafts_start_due())
