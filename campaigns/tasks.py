"""Celery tasks of marketing: thin, idempotent wrappers that load by id and call the service."""

from celery import shared_task
from django.utils import timezone

from . import imports, retention, targets


@shared_task(acks_late=True, ignore_result=True)
def import_leads(job_id: int) -> None:
    """Import a confirmed CSV upload; a second delivery of the same job imports nothing more."""
    imports.import_run(job_id=job_id)


@shared_task(ignore_result=True)
def purge_expired_data() -> None:
    """Drop import files and idempotency records past their retention (daily, from beat)."""
    retention.retention_purge(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def check_campaign_targets() -> int:
    """Run by beat on the 1st of each month for the month just ended; a second run notifies nobody again."""
    return targets.campaign_targets_check()
