"""Celery tasks of routing: thin wrappers around its services."""

from celery import shared_task

from . import router


@shared_task(acks_late=True, ignore_result=True)
def route_waiting_leads() -> int:
    """Run by beat every minute: leads that waited for a shift to start go to the reps now on shift."""
    return router.waiting_leads_route()
