"""At least once, with a real worker killed: a Celery worker (its own process) takes a delivery and is
SIGKILLed while the endpoint is still answering; the delivery stays leased, and when the lease runs out
the next relay sends it again under the same webhook-id, which the receiver can deduplicate by."""

import os
import signal

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from enforcement.tests.test_sweep_drill import wait_for, worker_process
from integrations import relay
from integrations.models import Attempt, Delivery
from integrations.tasks import relay as relay_task
from integrations.tests.factories import EndpointFactory


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_loses_no_delivery(fake, tmp_path):
    endpoint = EndpointFactory(url=fake.url("/slow"))
    delivery = Delivery.objects.create(
        endpoint=endpoint, event_type="lead.claimed", message_id="evt_42", summary="Claimed", body='{"n":42}'
    )
    fake.delay = 30  # the endpoint takes its time: the worker is killed while it waits
    worker = worker_process(tmp_path / "worker.log")
    try:
        relay_task.delay()
        assert wait_for(lambda: len(fake.to("/slow")) == 1, timeout=60), (tmp_path / "worker.log").read_text()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0) and not Attempt.objects.exists()
    assert delivery.next_attempt_at > timezone.now()  # leased to the dead worker

    fake.delay = 0
    assert relay.deliveries_send(now=delivery.next_attempt_at) == 1
    first, second = fake.to("/slow")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == "evt_42"
    Webhook(endpoint.secret).verify(second.body, second.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
