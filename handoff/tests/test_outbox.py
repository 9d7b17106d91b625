"""Publishing can't fail a request: with the broker stopped, a manager's Assign is saved and answered
as saved; its email waits in the outbox and goes out, once, when the broker is back. The broker here
is a real Redis server of the test's own, stopped and started again."""

import shutil
import socket
import subprocess
import time

import pytest
import redis
from celery import current_app
from django.urls import reverse

from common.models import OutboxMessage
from common.outbox import outbox_backlog, outbox_relay
from leads.models import Lead
from leads.tests.test_assignment import waiting

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    """A Redis server of the test's own that it can stop and start on the same port."""

    def __init__(self):
        self.port, self.process = free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def messages(self) -> int:
        """Task messages waiting in the broker's queues (the default queue and its priority lists)."""
        client = redis.Redis.from_url(self.url)
        return sum(client.llen(key) for key in client.keys("celery*") if client.type(key) == b"list")


def _publish_to(url: str) -> None:
    """Point Celery's producers at `url` (its pools keep connections to the last broker: new ones)."""
    current_app.conf.broker_url = url
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.fixture
def broker():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (the Redis package the project installs)")
    own = Broker()
    own.start()
    saved = current_app.conf.broker_url
    _publish_to(own.url)
    yield own
    _publish_to(saved)
    if own.process.poll() is None:
        own.stop()


def test_a_change_saved_while_the_broker_is_down_is_answered_as_saved_and_its_email_follows(
    client, broker, marketer, manager, rep, campaign
):
    lead = waiting(campaign, marketer)
    broker.stop()

    client.force_login(manager)
    started = time.monotonic()
    response = client.post(reverse("leads:assign", args=[lead.pk]), {"rep": rep.pk})
    took = time.monotonic() - started

    assert response.status_code == 302  # not 500: the assignment is saved, and the user is told so
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.CLAIMED, rep)
    [message] = OutboxMessage.objects.all()
    assert message.task == "notifications.tasks.send_notification_email" and message.published_at is None
    assert outbox_backlog()["unpublished"] == 1
    assert outbox_relay() == 0  # still down: nothing published, nothing lost
    assert took < 10, f"the request waited {took:.1f} s on the broker"

    broker.start()
    assert outbox_relay() == 1
    message.refresh_from_db()
    assert message.published_at is not None
    assert broker.messages() == 1
    assert outbox_relay() == 0  # once
    assert broker.messages() == 1
    assert outbox_backlog()["unpublished"] == 0


def test_with_the_broker_up_the_message_goes_at_the_commit(client, broker, marketer, manager, rep, campaign):
    lead = waiting(campaign, marketer)
    client.force_login(manager)
    assert client.post(reverse("leads:assign", args=[lead.pk]), {"rep": rep.pk}).status_code == 302
    assert OutboxMessage.objects.get().published_at is not None
    assert broker.messages() == 1
