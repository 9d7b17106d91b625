"""Journey 6: a manager connects a (local, fake) Slack webhook for a team and a webhook endpoint; a
claim deadline passes; the worker records the breach and the relay delivers it to both, signed, and
the manager reads both deliveries in their logs and replays one."""

import json

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from conftest import LeadFactory, advance
from enforcement.tests.test_worker import wait_for
from integrations import local_receiver as fake_server
from integrations.models import Channel, Delivery, Endpoint
from leads.models import Lead, SalesTeam
from sla.models import Deadline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]


@pytest.fixture
def fake(settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = True  # the fake Slack and endpoint listen on 127.0.0.1
    state, server = fake_server.start()
    yield state
    server.shutdown()
    server.server_close()


def test_a_manager_connects_slack_and_a_webhook_and_sees_a_breach_delivered_to_both(
    open_tab, fake, marketer, manager, campaign
):
    SalesTeam.objects.create(name="North")
    tab = open_tab(manager)
    page = tab.page

    # Given a team channel in Slack (the fake one), tested from the page
    tab.visit("/integrations/", shot="integrations")
    page.get_by_role("link", name="Connect a channel").click()
    tab.check(shot="channel-form")
    page.get_by_label("Kind").select_option("slack")
    page.get_by_label("Name").fill("#north-alerts")
    page.get_by_label("Whose alerts").select_option(label="Team North")
    page.get_by_label("Incoming-webhook URL").fill(fake.url("/slack"))
    page.get_by_role("button", name="Connect").click()
    tab.check()
    channel = Channel.objects.get()
    page.get_by_role("button", name="Send a test").click()
    tab.check()
    assert wait_for(lambda: channel.deliveries.filter(status=Delivery.Status.DELIVERED).exists(), timeout=20)
    assert json.loads(fake.to("/slack")[0].body)["text"] == "Test from Handoff: this channel is connected"

    # and a webhook endpoint subscribed to breaches
    tab.visit("/integrations/")
    page.get_by_role("link", name="Add an endpoint").click()
    tab.check(shot="endpoint-form")
    page.get_by_label("Name").fill("CRM")
    page.get_by_label("URL").fill(fake.url("/crm"))
    page.get_by_label("SLA deadline breached").check()
    page.get_by_role("button", name="Save").click()
    tab.check(shot="endpoint")
    endpoint = Endpoint.objects.get()
    assert endpoint.secret in page.content()

    # When a lead's claim deadline passes with nobody claiming it
    late = advance(
        LeadFactory(campaign=campaign, full_name="Larry Late"), Lead.Status.HANDED_OFF, marketer=marketer, rep=None
    )
    now = timezone.now()
    Deadline.objects.filter(lead=late).update(starts_at=now - timezone.timedelta(hours=2), due_at=now)

    # Then the worker records the breach and the relay delivers it to both, the endpoint's signed
    def breached_everywhere() -> bool:
        return any(b"deadline.breached" in r.body for r in fake.to("/crm")) and len(fake.to("/slack")) == 2

    assert wait_for(breached_everywhere, timeout=60), (
        "the breach did not reach both within 60 s",
        list(Channel.objects.values_list("alerts", "events", "team", "person", "enabled")),
        list(Delivery.objects.values_list("event_type", "status", "last_error")),
        [r.body[:80] for r in fake.received],
    )
    (to_crm,) = fake.to("/crm")
    payload = Webhook(endpoint.secret).verify(to_crm.body, to_crm.headers)
    assert (payload["type"], payload["data"]["lead"]["name"]) == ("deadline.breached", "Larry Late")
    assert json.loads(fake.to("/slack")[1].body)["text"] == "SLA breach: claim of Larry Late"

    # and the manager reads both in the logs: delivered, the endpoint's signed
    tab.visit(endpoint.get_absolute_url(), shot="endpoint-log")
    log = page.locator("table.delivery-log")
    assert "SLA deadline breached: Larry Late" in log.inner_text()
    assert "delivered" in log.inner_text() and "signed v1," in log.inner_text()
    page.get_by_role("link", name="SLA deadline breached: Larry Late").click()
    tab.check(shot="delivery")
    assert to_crm.headers["webhook-signature"] in page.content()
    tab.visit(channel.get_absolute_url(), shot="channel-log")
    log = page.locator("table.delivery-log")
    assert "SLA breach: claim of Larry Late" in log.inner_text() and "delivered" in log.inner_text()

    # and a replay sends the breach to the endpoint again, same id, signed anew
    tab.visit(endpoint.get_absolute_url())
    page.get_by_role("button", name="Replay SLA deadline breached: Larry Late").click()
    tab.check()
    assert wait_for(lambda: len(fake.to("/crm")) == 2, timeout=20)
    replayed = fake.to("/crm")[1]
    assert replayed.headers["webhook-id"] == to_crm.headers["webhook-id"]
    Webhook(endpoint.secret).verify(replayed.body, replayed.headers)
