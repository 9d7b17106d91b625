"""The alerts and webhooks pages: who may see what (checked on the server), the forms' address rules,
the test and replay buttons, and a log whose cost does not grow with its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import UserFactory
from integrations.models import Attempt, Channel, Delivery, Endpoint
from integrations.tests.factories import ChannelFactory, EndpointFactory
from leads.models import SalesTeam
from people.roles import Role

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login(client):
    assert client.get("/integrations/").url.startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/integrations/webhooks/new/", "/integrations/webhooks/{endpoint}/"])
def test_webhooks_are_for_managers_only(client, rep, path):
    endpoint = EndpointFactory()
    client.force_login(rep)
    assert client.get(path.format(endpoint=endpoint.pk)).status_code == 403
    assert client.post(f"/integrations/webhooks/{endpoint.pk}/test/").status_code == 403
    assert not Delivery.objects.exists()


def test_someone_elses_channel_is_not_found(client, rep, manager):
    """A rep sees their own channel only; a team's and a colleague's answer 404, also to a replay."""
    team_channel = ChannelFactory(team=SalesTeam.objects.create(name="North"))
    colleague_channel = ChannelFactory(person=UserFactory(role=Role.SALES))
    delivery = Delivery.objects.create(channel=team_channel, event_type="x", message_id="m", summary="s", body="{}")
    client.force_login(rep)
    for channel in (team_channel, colleague_channel):
        assert client.get(f"/integrations/channels/{channel.pk}/").status_code == 404
        assert client.post(f"/integrations/channels/{channel.pk}/test/").status_code == 404
    assert client.post(f"/integrations/deliveries/{delivery.pk}/replay/").status_code == 404
    assert Delivery.objects.count() == 1


def test_a_rep_connects_their_own_channel(client, rep, settings):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    client.force_login(rep)
    answer = client.post(
        "/integrations/channels/new/",
        {
            "kind": "slack",
            "name": "#me",
            "owner": "me",
            "url": "https://hooks.slack.com/services/T0/B0/secret",
            "alerts": ["assignments", "breaches"],
        },
    )
    channel = Channel.objects.get()
    assert answer.url == f"/integrations/channels/{channel.pk}/"
    assert (channel.person, channel.team, channel.events) == (rep, None, ["deadline.breached", "lead.assigned"])
    page = client.get(answer.url).content.decode()
    assert "secret" not in page  # the address is never shown again


@pytest.mark.parametrize(
    ("kind", "url", "said"),
    [
        ("slack", "http://hooks.slack.com/services/x", "https://"),
        ("slack", "https://example.com/services/x", "not a Slack"),
        ("teams", "https://hooks.slack.com/services/x", "not a Microsoft Teams"),
        ("slack", "http://127.0.0.1:9/x", "https://"),
    ],
)
def test_channel_addresses_must_be_the_vendors_in_production(client, rep, settings, kind, url, said):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    client.force_login(rep)
    answer = client.post(
        "/integrations/channels/new/", {"kind": kind, "name": "#x", "owner": "me", "url": url, "alerts": []}
    )
    assert answer.status_code == 200 and said in answer.content.decode()
    assert not Channel.objects.exists()


@pytest.mark.parametrize("url", ["http://crm.example.com/hook", "https://10.0.0.5/hook", "https://localhost/hook"])
def test_endpoints_must_be_https_on_the_internet(client, manager, settings, url):
    settings.INTEGRATIONS_ALLOW_LOOPBACK = False
    client.force_login(manager)
    answer = client.post(
        "/integrations/webhooks/new/", {"name": "CRM", "url": url, "events": ["lead.claimed"], "payload_version": 1}
    )
    assert answer.status_code == 200
    assert not Endpoint.objects.exists()


def test_a_manager_adds_an_endpoint_and_sees_its_secret(client, manager):
    client.force_login(manager)
    answer = client.post(
        "/integrations/webhooks/new/",
        {"name": "CRM", "url": "https://crm.example.com/hook", "events": ["deadline.breached"], "payload_version": 1},
    )
    endpoint = Endpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.created_by == manager
    assert endpoint.secret in client.get(answer.url).content.decode()


def test_a_team_channel_keeps_its_address_when_changed_without_one(client, manager):
    team = SalesTeam.objects.create(name="North")
    channel = ChannelFactory(team=team, url="http://127.0.0.1:9/keep")
    client.force_login(manager)
    client.post(
        f"/integrations/channels/{channel.pk}/edit/",
        {"kind": "slack", "name": "#north", "owner": str(team.pk), "url": "", "alerts": ["warnings"], "enabled": "on"},
    )
    channel.refresh_from_db()
    assert (channel.name, channel.url, channel.events) == ("#north", "http://127.0.0.1:9/keep", ["deadline.warned"])


def test_replay_sends_the_same_message_again(client, manager, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory()
    delivery = Delivery.objects.create(
        endpoint=endpoint, event_type="lead.claimed", message_id="evt_7", summary="Claimed", body='{"a":1}'
    )
    client.force_login(manager)
    with django_capture_on_commit_callbacks() as nudges:
        answer = client.post(f"/integrations/deliveries/{delivery.pk}/replay/")
    assert answer.url == endpoint.get_absolute_url() and len(nudges) == 1
    again = Delivery.objects.exclude(pk=delivery.pk).get()
    assert (again.message_id, again.body, again.replay_of) == ("evt_7", '{"a":1}', delivery)


def test_the_log_page_costs_the_same_for_3_or_40_deliveries(client, manager):
    endpoint = EndpointFactory()
    client.force_login(manager)

    def queries(count: int) -> int:
        for number in range(count):
            delivery = Delivery.objects.create(
                endpoint=endpoint, event_type="lead.claimed", message_id=f"evt_{number}", summary="s", body="{}"
            )
            Attempt.objects.create(delivery=delivery, status_code=500, error="HTTP 500", signature="v1,abc")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(endpoint.get_absolute_url()).status_code == 200
        return len(captured)

    assert queries(3) == queries(37)


@pytest.mark.parametrize("before", ["99999999999999999999999", "abc", "-1"])
def test_a_strange_page_parameter_is_no_error(client, manager, before):
    endpoint = EndpointFactory()
    client.force_login(manager)
    assert client.get(f"{endpoint.get_absolute_url()}?before={before}").status_code == 200


def test_deleting_a_channel_takes_its_log(client, rep):
    channel = ChannelFactory(person=rep)
    Delivery.objects.create(channel=channel, event_type="x", message_id="m", summary="s", body="{}")
    client.force_login(rep)
    assert client.post(f"/integrations/channels/{channel.pk}/delete/").url == "/integrations/"
    assert not Channel.objects.exists() and not Delivery.objects.exists()


def test_the_overview_lists_what_each_may_see(client, rep, manager):
    """A rep sees their channel and no webhooks; a manager sees the team's channels and the endpoints."""
    ChannelFactory(person=rep, name="#rep-own")
    ChannelFactory(team=SalesTeam.objects.create(name="North"), name="#north")
    EndpointFactory(name="Billing CRM")
    client.force_login(rep)
    page = client.get("/integrations/").content.decode()
    assert "#rep-own" in page and "#north" not in page and "Billing CRM" not in page
    client.force_login(manager)
    page = client.get("/integrations/").content.decode()
    assert "#north" in page and "Billing CRM" in page and "#rep-own" not in page


def test_a_new_channel_form_starts_with_the_usual_alerts_ticked(client, rep):
    client.force_login(rep)
    form = client.get("/integrations/channels/new/").context["form"]
    assert form["alerts"].value() == ["breaches", "warnings", "assignments", "storm_summaries"]


def test_a_rep_cannot_connect_a_teams_channel_by_editing_the_form(client, rep):
    """The team choices are the managers': a rep's post naming a team is refused, nothing saved."""
    team = SalesTeam.objects.create(name="North")
    client.force_login(rep)
    answer = client.post(
        "/integrations/channels/new/",
        {"kind": "slack", "name": "#north", "owner": str(team.pk), "url": "http://127.0.0.1:9/x", "alerts": []},
    )
    assert answer.status_code == 200 and not Channel.objects.exists()
