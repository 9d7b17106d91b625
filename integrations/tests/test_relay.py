"""The relay against a real local HTTP server: signed per Standard Webhooks, delivered at least once,
retried with backoff, given up, endpoints switched off after a day of failures with the managers told."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from conftest import LeadFactory, advance
from enforcement.sweep import sweep_deadlines
from integrations import relay
from integrations.models import Delivery, EventType
from integrations.relay import MAX_ATTEMPTS, deliveries_send, outbox_fan_out, retry_delay
from integrations.tests.factories import EndpointFactory
from integrations.tests.test_outbox import overdue_claims
from leads.models import Lead
from notifications.models import Notification

pytestmark = pytest.mark.django_db
S = Lead.Status
SECOND = datetime.timedelta(seconds=1)


def test_a_breach_reaches_the_endpoint_signed_and_versioned(marketer, campaign, fake):
    """The body verifies with the endpoint's secret (standardwebhooks' own Webhook.verify) and says
    what was breached, for whom, with a link; the log keeps the attempt and the signature sent."""
    endpoint = EndpointFactory(url=fake.url("/crm"), events=[EventType.DEADLINE_BREACHED])
    (lead,) = overdue_claims(campaign, marketer, 1)
    sweep_deadlines()

    assert relay.relay() == {"outbox": 1, "storms": 0, "attempts": 1}

    (request,) = fake.to("/crm")
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert (payload["type"], payload["version"]) == ("deadline.breached", 1)
    assert payload["data"]["lead"]["id"] == lead.pk
    assert payload["data"]["lead"]["url"].endswith(f"/leads/{lead.pk}/")
    assert payload["data"]["deadline"]["kind"] == "claim"
    assert request.headers["webhook-id"].startswith("evt_")
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)
    delivery = endpoint.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.attempt_log.get().signature == request.headers["webhook-signature"]


def test_a_failed_delivery_is_retried_with_the_same_id_until_accepted(marketer, campaign, fake):
    """The endpoint answers 500, then 200: the second attempt waits the backoff, carries the same
    webhook-id and body, and a fresh valid signature."""
    endpoint = EndpointFactory(url=fake.url("/crm"), events=[EventType.DEADLINE_BREACHED])
    fake.answers["/crm"] = [500]
    overdue_claims(campaign, marketer, 1)
    sweep_deadlines()
    now = timezone.now()
    relay.relay(now=now)
    delivery = endpoint.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert delivery.next_attempt_at >= now + retry_delay(1)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.last_error == "HTTP 500"

    assert deliveries_send(now=now + 5 * SECOND) == 0  # not before its backoff
    assert deliveries_send(now=delivery.next_attempt_at + SECOND) == 1

    first, second = fake.to("/crm")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    Webhook(endpoint.secret).verify(second.body, second.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_backoff_grows_four_times_and_stops_at_twelve_hours():
    waits = [retry_delay(failures).total_seconds() for failures in range(1, MAX_ATTEMPTS)]
    assert waits[:5] == [10, 40, 160, 640, 2560]
    assert max(waits) == 12 * 3600 and waits == sorted(waits)


def test_a_delivery_is_given_up_after_its_last_attempt(fake, manager):
    """The tenth failure ends the retries; the endpoint (failing for minutes only) stays on."""
    endpoint = EndpointFactory(url=fake.url("/down"))
    fake.answers["/down"] = [503]
    delivery = Delivery.objects.create(
        endpoint=endpoint, event_type="deadline.breached", message_id="evt_1", summary="x", body="{}"
    )
    Delivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert deliveries_send() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_an_endpoint_failing_for_a_day_is_switched_off_and_the_managers_told(fake, manager, rep):
    """One more failure after 24 hours of failures switches the endpoint off; every manager (not the
    rep) gets one notification linking to it; its waiting deliveries are no longer sent."""
    endpoint = EndpointFactory(url=fake.url("/down"), failing_since=timezone.now() - datetime.timedelta(hours=25))
    fake.answers["/down"] = [500, 500]
    for number in (1, 2):
        Delivery.objects.create(
            endpoint=endpoint, event_type="lead.claimed", message_id=f"evt_{number}", summary="x", body="{}"
        )
    assert deliveries_send(batch_size=1) == 1  # one batch: the first failure switches it off
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "failed since" in endpoint.disabled_reason
    assert endpoint.disabled_reason.endswith("(last: HTTP 500).")
    (notice,) = Notification.objects.filter(kind=Notification.Kind.INTEGRATION)
    assert notice.user == manager and notice.url == endpoint.get_absolute_url()
    assert deliveries_send(now=timezone.now() + datetime.timedelta(days=2)) == 0
    assert len(fake.to("/down")) == 1


def test_a_relay_killed_while_sending_leaves_the_delivery_to_the_next_one(marketer, campaign, fake):
    """At least once: a relay that took a delivery and died before recording anything leaves it
    leased; when the lease runs out the next relay sends it."""
    endpoint = EndpointFactory(url=fake.url("/crm"), events=[EventType.DEADLINE_BREACHED])
    overdue_claims(campaign, marketer, 1)
    sweep_deadlines()
    outbox_fan_out()
    now = timezone.now()
    (taken,) = relay._take(5, now=now)  # ... and the worker is killed here
    assert deliveries_send(now=now + SECOND) == 0  # still leased to the dead relay
    assert deliveries_send(now=now + relay._lease() + SECOND) == 1
    assert len(fake.to("/crm")) == 1
    assert endpoint.deliveries.get(pk=taken.pk).status == "delivered"


def test_an_unreachable_endpoint_counts_as_a_failure(manager):
    """Nothing listens on the port: the attempt records the connection error and is retried."""
    endpoint = EndpointFactory(url="http://127.0.0.1:9/nobody")
    Delivery.objects.create(endpoint=endpoint, event_type="lead.claimed", message_id="evt_1", summary="x", body="{}")
    assert deliveries_send() == 1
    delivery = endpoint.deliveries.get()
    assert delivery.status == "pending" and "ConnectError" in delivery.last_error


def test_fan_out_takes_a_constant_number_of_queries(marketer, rep, campaign):
    """Making deliveries for 3 or 30 events of a batch costs the same number of statements."""
    EndpointFactory.create_batch(2, events=[EventType.LEAD_HANDED_OFF, EventType.LEAD_QUALIFIED])

    def queries(count: int) -> int:
        for _ in range(count):
            advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None)
        with CaptureQueriesContext(connection) as captured:
            assert outbox_fan_out() == 2 * count
        return len(captured)

    assert queries(3) == queries(30)
    assert Delivery.objects.count() == 2 * 2 * 33


def test_each_delivery_body_is_the_same_bytes_for_every_endpoint(marketer, rep, campaign, fake):
    """Two endpoints get one event with the same id and body, each signed with its own secret."""
    first = EndpointFactory(url=fake.url("/a"), events=[EventType.LEAD_QUALIFIED])
    second = EndpointFactory(url=fake.url("/b"), events=[EventType.LEAD_QUALIFIED])
    advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=rep)
    relay.relay()
    (to_first,), (to_second,) = fake.to("/a"), fake.to("/b")
    assert to_first.body == to_second.body and to_first.headers["webhook-id"] == to_second.headers["webhook-id"]
    assert Webhook(first.secret).verify(to_first.body, to_first.headers)["type"] == "lead.qualified"
    assert Webhook(second.secret).verify(to_second.body, to_second.headers)
    assert json.loads(to_first.body)["data"]["actor"]["id"] == marketer.pk


def test_the_log_forgets_finished_deliveries_after_the_retention(settings):
    """Delivered and given-up deliveries older than the retention go with their attempts; a waiting
    one stays, however old."""
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    endpoint = EndpointFactory()
    old = timezone.now() - datetime.timedelta(days=31)
    for status in ("delivered", "failed", "pending"):
        delivery = Delivery.objects.create(
            endpoint=endpoint, event_type="x", message_id=status, summary="s", body="{}", status=status, created_at=old
        )
        delivery.attempt_log.create(status_code=200)
    Delivery.objects.create(
        endpoint=endpoint, event_type="x", message_id="new", summary="s", body="{}", status="delivered"
    )
    assert relay.log_purge() == 2
    assert sorted(Delivery.objects.values_list("message_id", flat=True)) == ["new", "pending"]


def test_beat_runs_the_relay_on_the_general_queue_never_the_sla_one(settings):
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["integrations-relay"]
    assert entry["task"] == "integrations.tasks.relay" and entry["schedule"] == settings.WEBHOOK_RELAY_INTERVAL
    assert current_app.amqp.router.route({}, entry["task"])["queue"].name == "celery"


def test_in_production_an_endpoint_that_resolves_into_our_network_is_not_posted_to(fake, settings):
    """The form refuses private addresses, but a name can be pointed there later: each attempt looks
    the host up and refuses loopback and private addresses (unless INTEGRATIONS_ALLOW_LOOPBACK)."""
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    endpoint = EndpointFactory(url=fake.url("/inside").replace("127.0.0.1", "localhost"))
    Delivery.objects.create(endpoint=endpoint, event_type="lead.claimed", message_id="evt_1", summary="x", body="{}")
    assert deliveries_send() == 1
    assert not fake.received
    delivery = endpoint.deliveries.get()
    assert delivery.status == "pending" and "is not an address on the internet" in delivery.last_error
