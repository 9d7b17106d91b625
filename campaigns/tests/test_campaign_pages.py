"""Marketing's pages: campaigns and adding leads by hand, including bad input."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from conftest import LeadFactory
from leads.models import Lead, LeadEvent

pytestmark = pytest.mark.django_db


def campaign_data(**overrides):
    data = {
        "name": "Autumn trade fair",
        "channel": Campaign.Channel.EVENT,
        "status": Campaign.Status.PLANNED,
        "start_date": "2026-09-01",
        "end_date": "2026-12-31",
        "budget": "15000",
        "description": "Booth B12",
    }
    return {**data, **overrides}


def test_marketer_creates_a_campaign_and_owns_it(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("campaigns:create"), campaign_data())
    campaign = Campaign.objects.get(name="Autumn trade fair")
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url()
    assert campaign.owner == marketer
    assert campaign.end_date == datetime.date(2026, 12, 31)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"end_date": "2026-08-01"}, "end_date", "cannot end before it starts"),
        ({"budget": "-5"}, "budget", "cannot be negative"),
        ({"budget": "lots"}, "budget", "Enter a number"),
        ({"name": ""}, "name", "required"),
        ({"start_date": "31/31/2026"}, "start_date", "Enter a valid date"),
        ({"channel": "carrier pigeon"}, "channel", "Select a valid choice"),
    ],
)
def test_bad_campaign_input_is_explained_and_nothing_is_saved(client, marketer, overrides, field, message):
    client.force_login(marketer)
    response = client.post(reverse("campaigns:create"), campaign_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Campaign.objects.exists()


def test_marketer_edits_a_campaign(client, marketer, campaign):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:edit", args=[campaign.pk]), campaign_data(name="Renamed", status=Campaign.Status.ACTIVE)
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Renamed", Campaign.Status.ACTIVE)


def test_adding_a_lead_by_hand_captures_it_with_a_timeline_event(client, marketer, campaign):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:add_lead", args=[campaign.pk]),
        {
            "full_name": "Ada Lovelace",
            "email": "  Ada@Example.COM ",
            "company": "Engines",
            "phone": "",
            "job_title": "",
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.email, lead.campaign, lead.status, lead.created_by) == (
        "ada@example.com",
        campaign,
        Lead.Status.NEW,
        marketer,
    )
    event = lead.events.first()
    assert (event.kind, event.actor) == (LeadEvent.Kind.CAPTURED, marketer)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"full_name": ""}, "full_name"),
        ({"company_size": "-1"}, "company_size"),
        ({"company_size": "many"}, "company_size"),
        ({"job_title": "x" * 201}, "job_title"),
        ({"full_name": "x" * 201}, "full_name"),
    ],
)
def test_bad_lead_input_is_explained_and_nothing_is_saved(client, marketer, campaign, overrides, field):
    client.force_login(marketer)
    data = {"full_name": "Ada", "email": "ada@example.com", "company": "", "phone": "", **overrides}
    response = client.post(reverse("campaigns:add_lead", args=[campaign.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Lead.objects.exists()


def test_unknown_campaign_is_404_not_500(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("campaigns:detail", args=[999999])).status_code == 404
    assert client.post(reverse("campaigns:add_lead", args=[999999]), {}).status_code == 404


def test_campaign_pages_use_a_constant_number_of_queries(client, marketer, campaign):
    """The detail and list pages count in SQL: more leads never mean more queries."""
    client.force_login(marketer)
    LeadFactory.create_batch(2, campaign=campaign)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    detail, listing = reverse("campaigns:detail", args=[campaign.pk]), reverse("campaigns:list")
    before = count(detail), count(listing)
    LeadFactory.create_batch(25, campaign=campaign)
    assert (count(detail), count(listing)) == before


def test_campaign_detail_shows_its_funnel(client, marketer, campaign):
    client.force_login(marketer)
    LeadFactory.create_batch(3, campaign=campaign)
    response = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    funnel = response.context["funnel"]
    assert funnel["total"] == 3
    assert dict(funnel["statuses"])["New"] == 3
