"""Celery tasks of marketing: thin, idempotent wrappers that load by id and call the service."""

from celery import shared_task

from . import imports


@shared_task(acks_late=True, ignore_result=True)
def import_leads(job_id: int) -> None:
    """Import a confirmed CSV upload; a second delivery of the same job imports nothing more."""
    imports.import_run(job_id=job_id)
