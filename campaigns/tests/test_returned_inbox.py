"""The "returned by sales" inbox: what sales said, and marketing re-nurturing or disqualifying from it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import LeadFactory, UserFactory, advance
from leads import services
from leads.models import Lead, LeadEvent
from people.roles import Role

pytestmark = pytest.mark.django_db

S = Lead.Status
INBOX = reverse("campaigns:returned")


def returned(campaign, *, marketer, rep, name="Returned lead", reason="Outside our market", note=""):
    """A lead that went to sales, was claimed by `rep` and sent back with `reason` and `note`."""
    lead = advance(LeadFactory(campaign=campaign, full_name=name), S.CLAIMED, marketer=marketer, rep=rep)
    services.lead_return(lead=lead, actor=rep, reason=reason, note=note)
    lead.refresh_from_db()
    return lead


def listed(response) -> list[str]:
    return [lead.full_name for lead in response.context["leads"]]


@pytest.fixture
def signed_in(client, marketer):
    client.force_login(marketer)
    return client


def test_inbox_shows_each_returned_lead_with_the_reps_reason_and_note(signed_in, campaign, marketer, rep):
    """Given a lead a rep returned with a reason and a note, and leads elsewhere in the funnel,
    when a marketer opens the inbox, then only the returned lead is listed, with who, why and the note."""
    rep.first_name, rep.last_name = "Rita", "Rep"
    rep.save()
    returned(campaign, marketer=marketer, rep=rep, name="Ada", reason="No budget", note="Call again <in Q3>")
    advance(LeadFactory(campaign=campaign, full_name="Still with sales"), S.CLAIMED, marketer=marketer, rep=rep)
    LeadFactory(campaign=campaign, full_name="New")

    response = signed_in.get(INBOX)

    page = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == ["Ada"]
    assert "No budget" in page
    assert "Call again &lt;in Q3&gt;" in page
    assert "Rita Rep" in page
    assert '<span class="badge text-bg-warning">1</span>' in page


def test_a_lead_returned_twice_shows_its_latest_reason_and_note(signed_in, campaign, marketer, rep):
    lead = returned(campaign, marketer=marketer, rep=rep, name="Twice", reason="Wrong contact", note="first time")
    services.lead_renurture(lead=lead, actor=marketer)
    advance(lead, S.CLAIMED, marketer=marketer, rep=rep)
    services.lead_return(lead=lead, actor=rep, reason="No budget", note="second time")

    response = signed_in.get(INBOX)

    row = response.context["leads"][0]
    assert (row.return_handoffs[0].return_reason, row.return_events[0].note) == ("No budget", "second time")
    assert "Wrong contact" not in response.content.decode()


def test_most_recently_returned_first(signed_in, campaign, marketer, rep):
    """Ordered by when sales sent the lead back, not by when it was captured."""
    older, newer = (
        advance(LeadFactory(campaign=campaign, full_name=name), S.CLAIMED, marketer=marketer, rep=rep)
        for name in ("Captured first", "Captured last")
    )
    services.lead_return(lead=newer, actor=rep, reason="No budget")
    services.lead_return(lead=older, actor=rep, reason="No budget")

    assert listed(signed_in.get(INBOX)) == ["Captured first", "Captured last"]


def test_marketer_puts_a_returned_lead_back_into_nurturing_from_the_inbox(signed_in, campaign, marketer, rep):
    """The inbox links to the re-nurture form; sending it moves the lead back to new, history kept,
    and it leaves the inbox."""
    lead = returned(campaign, marketer=marketer, rep=rep, name="Again")
    link = reverse("leads:renurture", args=[lead.pk])
    assert link in signed_in.get(INBOX).content.decode()

    assert signed_in.get(link).status_code == 200
    signed_in.post(link, {"note": "New whitepaper for them"})

    lead.refresh_from_db()
    assert lead.status == S.NEW
    event = lead.events.get(kind=LeadEvent.Kind.RENURTURED)
    assert (event.actor, event.note) == (marketer, "New whitepaper for them")
    assert lead.events.filter(kind=LeadEvent.Kind.RETURNED).exists()
    assert listed(signed_in.get(INBOX)) == []


def test_marketer_disqualifies_a_returned_lead_from_the_inbox(signed_in, campaign, marketer, rep):
    lead = returned(campaign, marketer=marketer, rep=rep, name="Gone")
    link = reverse("leads:disqualify", args=[lead.pk])
    assert link in signed_in.get(INBOX).content.decode()

    assert signed_in.get(link).status_code == 200
    signed_in.post(link, {"reason": "Competitor"})

    lead.refresh_from_db()
    assert lead.status == S.DISQUALIFIED
    assert lead.events.get(kind=LeadEvent.Kind.DISQUALIFIED).note == "Competitor"
    assert listed(signed_in.get(INBOX)) == []


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_sales_reps_may_not_open_the_inbox(client, rep):
    client.force_login(rep)

    assert client.get(INBOX).status_code == 403


def test_managers_see_the_inbox(client, manager, campaign, marketer, rep):
    returned(campaign, marketer=marketer, rep=rep, name="For the manager")
    client.force_login(manager)

    assert listed(client.get(INBOX)) == ["For the manager"]


def test_the_inbox_costs_the_same_queries_for_3_or_30_leads(client, campaign, marketer, rep):
    client.force_login(UserFactory(role=Role.MARKETING))

    def queries_for(n: int) -> int:
        while Lead.objects.filter(status=S.RETURNED).count() < n:
            returned(campaign, marketer=marketer, rep=rep)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(INBOX)
        assert len(response.context["leads"]) == n
        return len(queries)

    assert queries_for(3) == queries_for(30)


def test_acting_from_the_inbox_comes_back_to_the_inbox_and_refuses_foreign_next(client, marketer, rep, campaign):
    """A safe `next` returns the marketer to the inbox; an off-site one is ignored."""
    first = advance(LeadFactory(campaign=campaign), Lead.Status.RETURNED, marketer=marketer, rep=rep)
    second = advance(LeadFactory(campaign=campaign), Lead.Status.RETURNED, marketer=marketer, rep=rep)
    inbox = reverse("campaigns:returned")
    client.force_login(marketer)

    assert f"?next={inbox}" in client.get(inbox).content.decode().replace("%2F", "/")
    response = client.post(reverse("leads:renurture", args=[first.pk]), {"note": "", "next": inbox})
    assert response["Location"] == inbox
    response = client.post(
        reverse("leads:disqualify", args=[second.pk]), {"reason": "Gone", "next": "https://evil.example/"}
    )
    assert response["Location"] == second.get_absolute_url()


def test_a_returned_lead_notifies_the_campaigns_owner(marketer, rep, campaign, django_capture_on_commit_callbacks):
    """Marketing hears about a returned lead in its notification centre, once, after the return commits."""
    from notifications.models import Notification

    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_return(lead=lead, actor=rep, reason="No budget", note="Try in Q3")
    notification = Notification.objects.get(user=campaign.owner, kind=Notification.Kind.RETURNED)
    assert lead.full_name in notification.title and "No budget" in notification.body
