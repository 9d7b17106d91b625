"""The queue: what waits, in which order, with which filters; priority from the score."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import CampaignFactory, LeadFactory, advance
from leads.models import Lead
from leads.queries import queue
from sla.models import Deadline
from sla.tiers import Priority, priority_of

pytestmark = pytest.mark.django_db
S = Lead.Status


def waiting(campaign, marketer, **fields):
    return advance(LeadFactory(campaign=campaign, **fields), S.HANDED_OFF, marketer=marketer, rep=None)


@pytest.mark.parametrize(
    "score,priority",
    [
        (100, Priority.HOT),
        (80, Priority.HOT),
        (79, Priority.WARM),
        (50, Priority.WARM),
        (49, Priority.COLD),
        (0, Priority.COLD),
    ],
)
def test_priority_comes_from_the_score(score, priority):
    assert priority_of(score) == priority


def test_filters_and_sorts(client, rep, marketer, campaign):
    fair = CampaignFactory(owner=marketer, channel="event")
    hot = waiting(fair, marketer, score=90, full_name="Hot Lead")
    cold = waiting(campaign, marketer, score=10, full_name="Cold Lead")
    warm = waiting(campaign, marketer, score=60, full_name="Warm Lead")
    soon = timezone.now() + datetime.timedelta(minutes=5)
    Deadline.objects.filter(lead=cold).update(starts_at=soon - datetime.timedelta(hours=4), due_at=soon)
    client.force_login(rep)

    def names(**params):
        response = client.get(reverse("leads:queue"), params)
        assert response.status_code == 200
        return [d.lead.full_name for d in response.context["deadlines"]]

    assert names()[0] == "Cold Lead"  # most urgent first
    assert names(order="score") == ["Hot Lead", "Warm Lead", "Cold Lead"]
    assert names(priority="hot") == ["Hot Lead"]
    assert names(priority="warm") == ["Warm Lead"]
    assert names(channel="event") == ["Hot Lead"]
    assert set(names(campaign=campaign.pk)) == {"Cold Lead", "Warm Lead"}
    assert hot and warm


@pytest.mark.parametrize(
    "params", [{"order": "DROP TABLE"}, {"priority": "lukewarm"}, {"campaign": "x"}, {"channel": "?"}]
)
def test_unknown_filter_values_are_ignored_with_a_message(client, rep, marketer, campaign, params):
    waiting(campaign, marketer)
    client.force_login(rep)
    response = client.get(reverse("leads:queue"), params)
    assert response.status_code == 200
    assert len(response.context["deadlines"]) == 1
    assert "not understood" in response.content.decode()


@pytest.mark.parametrize("order", ["urgent", "score", "newest"])
def test_the_queue_page_costs_the_same_queries_for_3_or_30_leads(client, rep, marketer, campaign, order):
    client.force_login(rep)

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("leads:queue"), {"order": order})
        return len(queries)

    for _ in range(3):
        waiting(campaign, marketer)
    before = count()
    for _ in range(27):
        waiting(campaign, marketer)
    assert count() == before


@pytest.mark.parametrize("order", ["score", "newest"])
def test_a_sorted_queue_pages_in_two_steps_with_the_rows_and_order_of_one(client, rep, marketer, campaign, order):
    """By score or by newest the page's ids are sorted first, then their rows read: every page holds
    the leads, in the order, that reading the sorted queue whole gives, ties included."""
    for score in [70, 70, 70, 40, 90, 10, 70, 40] * 8:
        waiting(campaign, marketer, score=score)
    whole = [deadline.pk for deadline in queue(order=order)]
    client.force_login(rep)
    paged = []
    for page in (1, 2):
        response = client.get(reverse("leads:queue"), {"order": order, "page": page})
        paged += [deadline.pk for deadline in response.context["deadlines"]]
        # The rows come whole: the lead and its campaign without a query each.
        assert all(deadline.lead.campaign.name for deadline in response.context["deadlines"])
    assert paged == whole


def test_the_queue_says_how_many_wait_without_counting_them(client, rep, marketer, campaign):
    """The number waiting comes from the lead tallies, exact, with any filter but the priority; with a
    priority it is the planner's estimate, said as such."""
    other = CampaignFactory(owner=marketer)
    for _ in range(3):
        waiting(campaign, marketer, score=90)
    waiting(other, marketer, score=10)
    client.force_login(rep)

    def heading(**params):
        html = client.get(reverse("leads:queue"), params).content.decode()
        return html[html.index("<h1") : html.index("</h1>")]

    assert "4 waiting" in heading()
    assert "3 waiting" in heading(campaign=campaign.pk)
    assert "about" in heading(priority="hot")
    assert "about" not in heading()


def test_every_queue_filter_says_any_when_nothing_is_chosen(client, rep, campaign):
    """The Campaign filter reads like the others ("Any channel"), not Django's "---------" (issue 23)."""
    client.force_login(rep)
    page = client.get(reverse("leads:queue")).text
    assert "---------" not in page
    for word in ("Any campaign", "Any channel", "Any priority"):
        assert f'<option value="" selected>{word}</option>' in page
