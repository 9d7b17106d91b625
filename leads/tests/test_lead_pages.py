"""The lead's journey through the pages: marketer → queue → rep → deal, and what bad input gets."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory
from leads import services
from leads.models import Deal, Lead, LeadEvent
from sla.models import Deadline

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def handed_off_lead(campaign, marketer, **kwargs) -> Lead:
    lead = LeadFactory(campaign=campaign, **kwargs)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer, note="Wants a demo")
    return lead


def test_whole_journey_through_the_pages(client, marketer, rep, campaign):
    """A marketer qualifies and hands off; the rep claims, contacts and converts; the timeline tells it all."""
    client.force_login(marketer)
    client.post(
        reverse("campaigns:add_lead", args=[campaign.pk]),
        {"full_name": "Grace Hopper", "email": "grace@example.com", "company": "Navy", "phone": "", "score": "80"},
    )
    lead = Lead.objects.get(email="grace@example.com")
    assert client.post(reverse("leads:qualify", args=[lead.pk])).status_code == 302
    response = client.post(reverse("leads:hand_off", args=[lead.pk]), {"note": "Hot: asked for pricing"})
    assert response.status_code == 302

    client.force_login(rep)
    queue = client.get(reverse("leads:queue"))
    assert "Grace Hopper" in queue.content.decode()
    assert "Hot: asked for pricing" in queue.content.decode()
    assert client.post(reverse("leads:claim", args=[lead.pk])).status_code == 302
    assert "Grace Hopper" in client.get(reverse("leads:mine")).content.decode()
    assert "Grace Hopper" not in client.get(reverse("leads:queue")).content.decode()
    client.post(reverse("leads:first_contact", args=[lead.pk]), {"note": "Called, keen"})
    client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"value": "12500.50", "currency": "EUR", "stage": "proposal", "expected_close_date": "2026-12-15", "note": ""},
    )

    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    deal = Deal.objects.get(lead=lead)
    assert (deal.value, deal.stage, str(deal.expected_close_date)) == (Decimal("12500.50"), "proposal", "2026-12-15")
    detail = client.get(reverse("leads:detail", args=[lead.pk]))
    kinds = [event.kind for event in detail.context["events"]]  # newest first (issue 11)
    assert kinds == ["converted", "contacted", "claimed", "handed_off", "qualified", "scored", "captured"]
    assert "Called, keen" in detail.content.decode()


def test_the_queue_puts_the_most_urgent_deadline_first(client, rep, marketer, campaign):
    relaxed = handed_off_lead(campaign, marketer, full_name="Relaxed Lead")
    urgent = handed_off_lead(campaign, marketer, full_name="Urgent Lead")
    soon = timezone.now() + datetime.timedelta(minutes=10)
    Deadline.objects.filter(lead=urgent).update(starts_at=soon - datetime.timedelta(hours=4), due_at=soon)

    client.force_login(rep)
    deadlines = list(client.get(reverse("leads:queue")).context["deadlines"])
    assert [d.lead for d in deadlines] == [urgent, relaxed]


def test_losing_a_claim_race_tells_the_rep_who_won(client, rep, other_rep, marketer, campaign):
    """The second rep to claim is sent back to the queue with the winner's name, never an error page."""
    lead = handed_off_lead(campaign, marketer)
    services.lead_claim(lead=lead, rep=other_rep)

    client.force_login(rep)
    response = client.post(reverse("leads:claim", args=[lead.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:queue")
    assert any(other_rep.get_full_name() in message for message in messages_of(response))
    lead.refresh_from_db()
    assert lead.owner == other_rep


@pytest.mark.parametrize(
    "data,field",
    [
        ({"value": "-1", "currency": "EUR", "stage": "qualified"}, "value"),
        ({"value": "a lot", "currency": "EUR", "stage": "qualified"}, "value"),
        ({"value": "", "currency": "EUR", "stage": "qualified"}, "value"),
        ({"value": "1" * 20, "currency": "EUR", "stage": "qualified"}, "value"),
        ({"value": "10", "currency": "EUR", "stage": "lost"}, "stage"),
        (
            {"value": "10", "currency": "EUR", "stage": "qualified", "expected_close_date": "soon"},
            "expected_close_date",
        ),
    ],
)
def test_bad_deal_value_is_explained_and_the_lead_is_unchanged(client, rep, marketer, campaign, data, field):
    lead = handed_off_lead(campaign, marketer)
    services.lead_claim(lead=lead, rep=rep)
    services.lead_log_first_contact(lead=lead, actor=rep)

    client.force_login(rep)
    response = client.post(reverse("leads:convert", args=[lead.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONTACTED
    assert not Deal.objects.exists()


def test_returning_needs_a_reason(client, rep, marketer, campaign):
    lead = handed_off_lead(campaign, marketer)
    services.lead_claim(lead=lead, rep=rep)
    client.force_login(rep)

    response = client.post(reverse("leads:return", args=[lead.pk]), {"reason": "", "note": "meh"})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors

    response = client.post(reverse("leads:return", args=[lead.pk]), {"reason": "No budget", "note": "Next year"})
    lead.refresh_from_db()
    assert lead.status == Lead.Status.RETURNED
    assert lead.events.last().data == {"reason": "No budget"}


def test_a_rep_cannot_work_another_reps_lead(client, rep, other_rep, marketer, campaign):
    lead = handed_off_lead(campaign, marketer)
    services.lead_claim(lead=lead, rep=other_rep)
    events_before = lead.events.count()

    client.force_login(rep)
    response = client.post(reverse("leads:first_contact", args=[lead.pk]), {"note": "sneaky"})
    assert response.status_code == 302
    assert any("Only the rep who owns this lead" in message for message in messages_of(response))
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CLAIMED
    assert lead.events.count() == events_before


def test_an_illegal_move_is_refused_with_a_message_and_no_event(client, marketer, campaign):
    lead = LeadFactory(campaign=campaign)
    client.force_login(marketer)
    response = client.post(reverse("leads:hand_off", args=[lead.pk]), {"note": ""})
    assert response.status_code == 302
    assert any("Only MQLs can go to sales — qualify it first." in message for message in messages_of(response))
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert not lead.events.filter(kind=LeadEvent.Kind.HANDED_OFF).exists()


def test_a_form_for_a_move_not_open_to_the_viewer_is_not_shown(client, marketer, campaign):
    lead = LeadFactory(campaign=campaign)
    client.force_login(marketer)
    response = client.get(reverse("leads:hand_off", args=[lead.pk]))
    assert response.status_code == 302
    assert response["Location"] == lead.get_absolute_url()


def test_lead_page_offers_only_the_moves_open_to_the_viewer(client, rep, other_rep, marketer, campaign):
    lead = handed_off_lead(campaign, marketer)
    services.lead_claim(lead=lead, rep=rep)

    client.force_login(rep)
    offered = {a.name for a in client.get(reverse("leads:detail", args=[lead.pk])).context["actions"]}
    assert offered == {"first_contact", "return", "disqualify"}

    client.force_login(other_rep)
    assert client.get(reverse("leads:detail", args=[lead.pk])).context["actions"] == []


def test_unknown_lead_is_404(client, rep):
    client.force_login(rep)
    assert client.get(reverse("leads:detail", args=[424242])).status_code == 404
    assert client.post(reverse("leads:claim", args=[424242])).status_code == 404


def test_lead_output_is_escaped(client, marketer, campaign):
    LeadFactory(campaign=campaign, full_name="<script>alert(1)</script>")
    client.force_login(marketer)
    html = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_timeline_shows_the_newest_events_a_page_at_a_time(
    client, manager, campaign, django_assert_max_num_queries
):
    """60 events: the newest 50 first, then "Older events…" shows the 10 before them, at the same cost."""
    lead = LeadFactory(campaign=campaign)
    start = timezone.now() - datetime.timedelta(days=1)
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead=lead, kind=LeadEvent.Kind.ACTIVITY, note=f"Note {n}", created_at=start + datetime.timedelta(minutes=n)
        )
        for n in range(60)
    )
    client.force_login(manager)

    with django_assert_max_num_queries(15) as first_page:
        first = client.get(reverse("leads:detail", args=[lead.pk]))
    notes = [event.note for event in first.context["events"]]
    assert notes == [f"Note {n}" for n in range(59, 9, -1)]
    assert "Older events" in first.content.decode()

    with django_assert_max_num_queries(len(first_page)):
        older = client.get(reverse("leads:detail", args=[lead.pk]), {"before": first.context["older"]})
    assert [event.note for event in older.context["events"]] == [f"Note {n}" for n in range(9, -1, -1)]
    assert older.context["older"] is None
    assert "Older events" not in older.content.decode()
