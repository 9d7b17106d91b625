"""Celery tasks of reporting: thin wrappers that call the service."""

from celery import shared_task

from reporting.verify import read_models_check


@shared_task(ignore_result=True)
def verify_read_models() -> int:
    """Daily, from beat, on the general queue: check the read models against a rebuild; tells managers
    (once a day) and the log when they differ. Returns how many rows differ. Reads only: safe twice."""
    return len(read_models_check())
