"""The grouped menu and the lead page's way back to the list it was opened from."""

import pytest
from django.urls import reverse

from conftest import PASSWORD, LeadFactory, advance
from leads.models import Lead
from people.navigation import menu_for

pytestmark = pytest.mark.django_db


def labels(user, view_name=""):
    return {group.label: [link.label for link in group.links] for group in menu_for(user, view_name)}


def test_each_role_sees_its_own_groups(marketer, rep, manager):
    assert list(labels(marketer)) == ["Marketing"]
    assert list(labels(rep)) == ["Sales"]
    assert list(labels(manager)) == ["Marketing", "Sales", "SLA"]
    assert "My leads" in labels(rep)["Sales"]
    assert "My leads" not in labels(manager)["Sales"]


def test_the_current_page_is_marked_also_below_its_list(manager, campaign):
    """A campaign's page belongs under Campaigns; nothing else is marked."""
    groups = menu_for(manager, "campaigns:detail")
    current = [(group.label, link.label) for group in groups for link in group.links if link.current]
    assert current == [("Marketing", "Campaigns")]
    assert [group.label for group in groups if group.current] == ["Marketing"]


def test_a_single_group_is_shown_as_plain_links(client, rep):
    client.login(username=rep.username, password=PASSWORD)
    html = client.get(reverse("leads:queue")).text
    assert '<a class="nav-link active" href="/leads/queue/" aria-current="page">Queue</a>' in html
    assert 'aria-expanded="false">Sales</a>' not in html


class TestBackLink:
    @pytest.fixture
    def lead(self, marketer, rep, campaign):
        return advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)

    def test_back_to_the_filtered_list_it_came_from(self, client, rep, lead):
        client.login(username=rep.username, password=PASSWORD)
        response = client.get(lead.get_absolute_url(), {"from": "/leads/queue/?priority=hot"})
        assert '<a class="d-inline-block mb-2 back-link" href="/leads/queue/?priority=hot">' in response.text
        assert "Back to Queue" in response.text

    @pytest.mark.parametrize(
        "came_from", ["https://evil.example/leads/queue/", "//evil.example/", "/nowhere/", "/calendars/"]
    )
    def test_anything_but_a_lead_list_here_falls_back_to_the_usual_list(self, client, rep, lead, came_from):
        client.login(username=rep.username, password=PASSWORD)
        response = client.get(lead.get_absolute_url(), {"from": came_from})
        assert 'back-link" href="/leads/mine/"' in response.text
        assert "evil" not in response.text

    def test_marketing_goes_back_to_its_lead_list(self, client, marketer, lead):
        client.login(username=marketer.username, password=PASSWORD)
        response = client.get(lead.get_absolute_url())
        assert 'back-link" href="/campaigns/leads/"' in response.text
