"""Counts every task message a process publishes, by queue and task, in a Redis hash: how the storm
watchdog test sees what the workers it starts hand out. A worker loads it with `--include` and the
environment variable PUBLISH_COUNTER=1; the test process connects `count` itself, for its own thread."""

import os

import redis
from celery.signals import before_task_publish
from django.conf import settings

KEY = "storm-watchdog:published"


def count(sender: str | None = None, routing_key: str | None = None, **kwargs) -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).hincrby(KEY, f"{routing_key}|{sender}", 1)


def counted() -> dict[tuple[str, str], int]:
    """(queue, task) → messages published since the hash was last emptied."""
    raw = redis.Redis.from_url(settings.CELERY_BROKER_URL).hgetall(KEY)
    return {tuple(field.decode().split("|", 1)): int(value) for field, value in raw.items()}


def reset() -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(KEY)


if os.environ.get("PUBLISH_COUNTER") == "1":
    before_task_publish.connect(count, weak=False)
