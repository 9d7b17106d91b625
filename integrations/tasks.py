"""Celery's door to the relay: beat runs it every few seconds on the general queue (never `sla`), and
the pages nudge it after a test or a replay."""

from celery import shared_task

from . import digests
from . import relay as relay_module


@shared_task(acks_late=True)
def relay() -> dict[str, int]:
    """Idempotent: every step takes its rows with SKIP LOCKED and a lease."""
    return relay_module.relay()


@shared_task(acks_late=True)
def send_daily_digests() -> int:
    return digests.daily_digests_send()


@shared_task(acks_late=True)
def purge_log() -> int:
    return relay_module.log_purge()
