"""The outbox: tasks a request starts are written in the request's transaction and published to the
broker after the commit, so a broker that is down (Redis stopped, restarting, unreachable) delays
them and never turns a saved change into an error.

`outbox_send(task, *args)` writes the message; after the commit it publishes what is unpublished,
oldest first (its own message and any left over, up to NOW_LIMIT), without retrying: a broker that
does not answer leaves the messages for the relay. `outbox_relay` (beat, every few seconds, on the
general queue) publishes the rest in order, in sets locked with SKIP LOCKED, so two relays never send
one message twice; a message is marked published in the transaction that sent it. A relay killed
between the send and the commit sends it again: at least once, which the tasks it carries already
take (each is idempotent). Published messages are kept KEEP for the record, then removed.
"""

import logging
from datetime import timedelta
from functools import partial

from celery import current_app
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

NOW_LIMIT = 50  # messages a request's commit publishes at most (the rest is the relay's)
RELAY_LIMIT = 1_000  # messages one relay set publishes
KEEP = timedelta(days=1)


def outbox_send(task, *args) -> OutboxMessage:
    """Write `task(*args)` to the outbox in the current transaction (a Celery task; its arguments
    JSON), to be published after the commit."""
    message = OutboxMessage.objects.create(task=task.name, args=list(args))
    transaction.on_commit(partial(publish_after_commit, message.pk))
    return message


def publish_after_commit(message_id: int) -> None:
    """After the request's commit: publish, or leave it to the relay. Never raises: the change is
    saved, and the user must hear so."""
    try:
        outbox_relay(limit=NOW_LIMIT, up_to=message_id)
    except Exception:  # noqa: BLE001 - a broker or database failure here must not fail the request
        logger.warning("Outbox message %s left to the relay", message_id, exc_info=True)


def outbox_relay(*, limit: int = RELAY_LIMIT, up_to: int | None = None) -> int:
    """Publish unpublished messages oldest first (those up to id `up_to`, when given), a set at a
    time, until none are left or the broker fails; returns how many were published."""
    published = 0
    while True:
        sent, failed = _relay_set(limit=limit, up_to=up_to)
        published += sent
        if failed or sent < limit or up_to is not None:
            return published


def _relay_set(*, limit: int, up_to: int | None) -> tuple[int, bool]:
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(published_at__isnull=True)
        if up_to is not None:
            pending = pending.filter(pk__lte=up_to)
        messages = list(pending.order_by("pk")[:limit])
        sent, failed = [], False
        for message in messages:
            try:
                current_app.send_task(message.task, args=message.args, retry=False)
            except Exception:  # noqa: BLE001 - the broker's errors come from kombu, redis-py and the OS
                logger.warning(
                    "The broker did not take outbox message %s; the relay tries again", message.pk, exc_info=True
                )
                failed = True
                break
            sent.append(message.pk)
        now = timezone.now()
        OutboxMessage.objects.filter(pk__in=sent).update(published_at=now)
        if failed:
            OutboxMessage.objects.filter(pk=messages[len(sent)].pk).update(attempts=F("attempts") + 1)
    return len(sent), failed


def outbox_clear(*, now=None) -> int:
    """Remove published messages older than KEEP; returns how many."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(published_at__lt=now - KEEP).delete()[0]


def outbox_backlog(*, now=None) -> dict:
    """What /healthz reports: unpublished messages and the age of the oldest, in seconds."""
    now = now or timezone.now()
    try:
        unpublished = OutboxMessage.objects.filter(published_at__isnull=True)
        count = unpublished.count()
        first = unpublished.order_by("pk").values_list("created_at", flat=True).first()
    except DatabaseError:
        return {}
    return {"unpublished": count, "oldest_seconds": int((now - first).total_seconds()) if first else 0}
