"""Alerts and webhooks with the broker stopped (a real Redis server of the test's own): the breach's
outbox row is written by the database in the sweep's transaction, the relay delivers it from the
database alone, and a page's "Send a test" is saved and answered as saved."""

import contextlib
import datetime

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from conftest import LeadFactory, advance
from enforcement.sweep import sweep_deadlines
from handoff.tests.test_outbox import broker  # noqa: F401 - the fixture
from integrations import local_receiver, relay
from integrations.models import Delivery, EventType, OutboxEvent
from integrations.tests.factories import EndpointFactory
from leads.models import Lead
from sla.models import Deadline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = True
    state, server = local_receiver.start()
    yield state
    server.shutdown()
    server.server_close()


def test_a_breach_recorded_while_the_broker_is_down_reaches_the_endpoint(broker, receiver, marketer, campaign):  # noqa: F811
    endpoint = EndpointFactory(url=receiver.url("/crm"), events=[EventType.DEADLINE_BREACHED])
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
    now = timezone.now()
    Deadline.objects.filter(lead=lead).update(starts_at=now - datetime.timedelta(hours=2), due_at=now)
    broker.stop()

    # The sweep's own after-commit tasks fail to publish (its safety nets redo them later) ...
    with contextlib.suppress(Exception):
        sweep_deadlines()
    # ... but the breach and its outbox row were committed together, with no broker involved.
    assert Deadline.objects.get(lead=lead).breached_at is not None
    assert OutboxEvent.objects.filter(event_type="deadline.breached").count() == 1

    assert relay.relay() == {"outbox": 1, "storms": 0, "attempts": 1}
    (request,) = receiver.to("/crm")
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["data"]["lead"]["id"] == lead.pk


def test_send_a_test_with_the_broker_down_is_saved_and_sent_by_the_relay(client, broker, receiver, manager):  # noqa: F811
    endpoint = EndpointFactory(url=receiver.url("/crm"))
    broker.stop()
    client.force_login(manager)
    assert client.post(endpoint.test_url).status_code == 302  # not 500: the nudge waits in the task outbox
    assert relay.deliveries_send() == 1
    assert endpoint.deliveries.get().status == Delivery.Status.DELIVERED
    Webhook(endpoint.secret).verify(receiver.to("/crm")[0].body, receiver.to("/crm")[0].headers)
