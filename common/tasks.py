"""Celery tasks of the common layer."""

from celery import shared_task

from . import outbox


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Run by beat every few seconds: publish what requests left in the outbox (the broker was down
    when they committed), oldest first; clear what was published long ago."""
    published = outbox.outbox_relay()
    outbox.outbox_clear()
    return published
