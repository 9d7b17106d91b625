"""Celery tasks of routing: thin wrappers around its services."""

from celery import shared_task

from . import rebalance, router


@shared_task(acks_late=True, ignore_result=True)
def route_waiting_leads() -> int:
    """Run by beat every minute: leads that waited for a shift to start go to the reps now on shift."""
    return router.waiting_leads_route()


@shared_task(acks_late=True, ignore_result=True)
def rebalance_before_breach() -> int:
    """Run by beat every minute: leads whose rep is away move (or their manager hears) before the miss."""
    return rebalance.rebalance_before_breach()
