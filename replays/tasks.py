"""Celery tasks of the replays: thin wrappers around their services."""

from celery import shared_task

from replays import services


@shared_task(acks_late=True, ignore_result=True)
def run_replay(replay_id: int) -> None:
    """Replay a draft on past weeks in a worker, not in the request (a month at a million leads is
    ~200,000 deadlines); the page shows its progress meanwhile."""
    services.replay_run(replay_id=replay_id)
