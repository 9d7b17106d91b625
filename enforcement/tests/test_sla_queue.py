"""The SLA sweep has a queue and a worker of its own: a backlog of thousands of slow tasks on the default
queue (a storm's notifications and escalation steps) never holds up the next sweep."""

import contextlib
import datetime
import os
import subprocess
import sys
import time

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.utils import timezone

from enforcement.tasks import (
    run_escalation,
    run_escalations,
    sweep_deadlines,
)
from enforcement.tests.test_sweep import hand_off, make_overdue
from enforcement.tests.test_worker import wait_for
from notifications.tasks import resend_unsent_emails, send_notification_emails
from sla.models import Deadline

BACKLOG = 3000
DEFAULT_QUEUE = "celery"


@app.task(name="handoff.tests.slow_side_effect", ignore_result=True)
def slow_side_effect() -> None:
    """Stands for one notice or escalation step of a storm, made slow."""
    time.sleep(0.5)


def queue_length(name: str) -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(name)


def purge(name: str) -> None:
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(name)


def test_only_the_sweep_goes_to_its_queue_and_every_other_task_goes_elsewhere():
    """The sweep's worker takes sweeps and nothing else: the safety nets (which may hand out thousands
    of deadlines in a storm) and every side effect go to the default queue, the escalation steps to
    their own."""
    route = app.amqp.router.route
    assert route({}, sweep_deadlines.name)["queue"].name == settings.SLA_QUEUE
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    others = (scheduled | {send_notification_emails.name}) - {sweep_deadlines.name}
    assert resend_unsent_emails.name in others and "enforcement.tasks.requeue_stuck_escalations" in others
    for name in others:
        assert route({}, name)["queue"].name == DEFAULT_QUEUE, name


def test_escalation_steps_have_a_lane_of_their_own():
    """A storm's escalation sets go to the escalations queue, served by its own worker in every way
    the app is started: neither behind its emails nor in front of them, never on the sweep's queue."""
    route = app.amqp.router.route
    for task in (run_escalation, run_escalations):
        assert route({}, task.name)["queue"].name == settings.ESCALATION_QUEUE
        assert "priority" not in route({}, task.name)
    assert settings.ESCALATION_QUEUE not in (settings.SLA_QUEUE, DEFAULT_QUEUE)
    root = settings.BASE_DIR
    for procfile in ("Procfile", "Procfile.production"):
        commands = dict(line.split(":", 1) for line in (root / procfile).read_text().splitlines() if line)
        assert f"-Q {settings.ESCALATION_QUEUE} " in commands["escalations"], procfile
    assert f"-Q {settings.ESCALATION_QUEUE} " in (root / "Makefile").read_text()


@contextlib.contextmanager
def general_worker():
    """A general worker in a process of its own, as the Procfile runs it, taking one slow task at a
    time. (Two Celery test workers in one process share the worker module's global state, and one of
    them was seen never to stop, even given 180 s.)"""
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "handoff", "worker", "--loglevel=WARNING"),
            *("-Q", DEFAULT_QUEUE, "--pool=threads", "--concurrency=1", "-n", f"general-{os.getpid()}@%h"),
            *("--include", __name__, "--without-heartbeat", "--without-mingle", "--without-gossip"),
        ],
        env={**os.environ, "DATABASE_URL": database_url()},
    )
    try:
        yield worker
    finally:
        worker.kill()
        worker.wait(timeout=30)


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_backlog_on_the_default_queue_does_not_delay_the_next_sweep(marketer, campaign):
    """Given 3,000 slow tasks queued in front of a busy general worker, when beat sends the next sweep,
    then the SLA worker records the overdue deadline within seconds, while the backlog is still there."""
    deadline = make_overdue(hand_off(campaign, marketer))
    purge(DEFAULT_QUEUE)
    purge(settings.SLA_QUEUE)
    try:
        for _ in range(BACKLOG):
            slow_side_effect.delay()
        with contextlib.ExitStack() as stack:
            general = stack.enter_context(general_worker())
            busy = wait_for(lambda: queue_length(DEFAULT_QUEUE) < BACKLOG, timeout=60)
            stack.enter_context(
                start_worker(
                    app,
                    loglevel="WARNING",
                    queues=[settings.SLA_QUEUE],
                    perform_ping_check=False,
                    pool="threads",
                    concurrency=1,
                )
            )
            sent_at = timezone.now()
            sweep_deadlines.delay()
            recorded = wait_for(lambda: Deadline.objects.filter(pk=deadline.pk, breached_at__isnull=False).exists())
            waiting = queue_length(DEFAULT_QUEUE)
            still_working = general.poll() is None
    finally:
        purge(DEFAULT_QUEUE)

    assert busy, "the general worker never took a task of the backlog"
    assert still_working, "the general worker stopped during the test"
    assert recorded, "the sweep did not run within 20 s behind the backlog"
    assert waiting > BACKLOG - 100, "the backlog was worked off: the test proves nothing"
    deadline.refresh_from_db()
    assert deadline.breached_at - sent_at < datetime.timedelta(seconds=10)
