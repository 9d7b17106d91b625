"""A receipt for every deadline: worked out again with the clock's own functions, its business-time
blocks add up to what the policy allowed (across a DST change and public holidays), holds move the due
time as they did, it arrives at the due time the deadline holds, and it is open to the lead page's roles."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, LeadFactory, advance
from leads import services
from leads.models import Lead, LeadEvent
from leads.queries import deadline_holds, score_when
from sla.clocks import deadline_set, deadlines_pause, deadlines_resume
from sla.models import Deadline, Handoff
from sla.policies import policy_publish
from sla.receipts import deadline_receipt

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
K = Deadline.Kind
HOUR = datetime.timedelta(hours=1)


def berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def bare_handoff(lead, marketer, policy) -> Handoff:
    return Handoff.objects.create(lead=lead, handed_off_by=marketer, handed_off_at=berlin(3, 27, 9), policy=policy)


@pytest.fixture
def long_policy(manager):
    """60 business hours for a cold first contact: from Friday 27 March 2026 13:00 in Berlin it runs over
    the clocks going forward (Sunday 29 March) and Easter (Good Friday 3 April, Easter Monday 6 April)."""
    return policy_publish(actor=manager, first_contact_hours_cold=Decimal("60"), note="Long, for the receipt")


def test_the_blocks_add_up_to_the_allowed_time_across_dst_and_holidays(campaign, marketer, long_policy):
    """Given a cold first contact of 60 business hours started on Friday 27 March 13:00 (Berlin, 09–17
    Mon–Fri), its receipt counts Friday 13–17 (4 h) and seven whole days of 8 h, skips the weekend of the
    DST change and both Easter holidays by name, and ends at the due time the clock gave: Thursday 9 April
    17:00 — 8 h blocks in UTC on either side of the change (08–16 before, 07–15 after)."""
    lead = LeadFactory(campaign=campaign, score=10)
    deadline = deadline_set(
        handoff=bare_handoff(lead, marketer, long_policy), kind=K.FIRST_CONTACT, now=berlin(3, 27, 13), score=10
    )

    receipt = deadline_receipt(deadline, holds=[], score=10)

    assert receipt.counted == receipt.allowed == 60 * HOUR
    assert deadline.due_at == receipt.due_at == receipt.given_due_at == berlin(4, 9, 17)
    assert receipt.checks_out
    lengths = [block.length for block in receipt.blocks]
    assert lengths == [4 * HOUR] + [8 * HOUR] * 7
    monday = receipt.blocks[1]
    assert (monday.begin, monday.end) == (berlin(3, 30, 9), berlin(3, 30, 17))
    assert monday.begin.astimezone(datetime.UTC).hour == 7, "after the change Berlin is UTC+2"
    assert receipt.blocks[0].begin.astimezone(datetime.UTC).hour == 12, "before it, UTC+1"
    skipped = {skipped.day: skipped.reason for skipped in receipt.skipped}
    assert skipped[datetime.date(2026, 3, 29)] == "closed on Sundays"
    assert skipped[datetime.date(2026, 4, 3)] == "public holiday: Good Friday"
    assert skipped[datetime.date(2026, 4, 6)] == "public holiday: Easter Monday"
    assert datetime.date(2026, 4, 7) not in skipped
    assert receipt.warn_at == deadline.warn_at
    assert [total for _, total in receipt.block_rows][-1] == 60 * HOUR


def test_a_hold_moves_the_due_time_on_the_receipt_as_it_did_on_the_clock(campaign, marketer, long_policy):
    """On hold from Monday 30 March 10:00 to Tuesday 31 March 10:00 (8 business hours, two days after
    the DST change): the receipt's hold moves the due time by 8 h over the Easter holidays, to the due
    time the clock holds after resuming."""
    lead = LeadFactory(campaign=campaign, score=10)
    handoff = bare_handoff(lead, marketer, long_policy)
    deadline = deadline_set(handoff=handoff, kind=K.FIRST_CONTACT, now=berlin(3, 27, 13), score=10)
    deadlines_pause(handoff=handoff, now=berlin(3, 30, 10))
    deadlines_resume(handoff=handoff, now=berlin(3, 31, 10))
    deadline.refresh_from_db()

    receipt = deadline_receipt(deadline, holds=[(berlin(3, 30, 10), berlin(3, 31, 10))])

    [hold] = receipt.holds
    assert hold.business == 8 * HOUR == sum((block.length for block in hold.blocks), datetime.timedelta(0))
    assert (hold.due_before, hold.due_after) == (berlin(4, 9, 17), berlin(4, 10, 17))
    assert receipt.due_at == deadline.due_at == berlin(4, 10, 17)
    assert receipt.counted == 60 * HOUR and receipt.checks_out


def test_a_follow_up_counts_business_days_over_the_holidays(campaign, marketer, manager):
    """Returned on Thursday 2 April, 3 business days: Tuesday 7, Wednesday 8 and Thursday 9 April (Good
    Friday and Easter Monday skipped), due at Thursday's close; its blocks add up to the time between."""
    policy = policy_publish(actor=manager, follow_up_days=3, note="Three days")
    lead = LeadFactory(campaign=campaign)
    deadline = deadline_set(
        handoff=bare_handoff(lead, marketer, policy), kind=K.FOLLOW_UP, now=berlin(4, 2, 11), owner=campaign.owner
    )

    receipt = deadline_receipt(deadline, holds=[])

    assert [day for day, _, _ in receipt.days] == [datetime.date(2026, 4, d) for d in (7, 8, 9)]
    assert receipt.due_at == deadline.due_at == berlin(4, 9, 17)
    assert receipt.counted == receipt.allowed == 6 * HOUR + 3 * 8 * HOUR
    assert receipt.checks_out


def test_the_receipt_says_so_when_the_recorded_due_time_differs(campaign, marketer, long_policy):
    """A deadline whose due time is not what the clock gives (here set by hand) is shown, not hidden."""
    deadline = deadline_set(
        handoff=bare_handoff(LeadFactory(campaign=campaign, score=10), marketer, long_policy),
        kind=K.FIRST_CONTACT,
        now=berlin(3, 27, 13),
        score=10,
    )
    Deadline.objects.filter(pk=deadline.pk).update(due_at=berlin(4, 9, 18))
    deadline.refresh_from_db()
    receipt = deadline_receipt(deadline, holds=[])
    assert not receipt.checks_out and receipt.difference == HOUR


# --- The page ---------------------------------------------------------------------------------


def signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_each_deadline_on_the_lead_page_opens_its_receipt(client, campaign, marketer, rep):
    """From the lead page, the rep opens the first-contact receipt of a lead held and resumed: the page
    shows the policy version, the tier and the score, each block, the hold and says it checks out."""
    lead = advance(LeadFactory(campaign=campaign, score=85), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    services.lead_hold(lead=lead, actor=rep, reason="Waiting on the customer")
    services.lead_resume(lead=lead, actor=rep)
    contact = Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT)
    url = reverse("leads:deadline_receipt", args=[lead.pk, contact.pk])

    lead_page = signed_in(client, rep).get(lead.get_absolute_url()).content.decode()
    response = client.get(url)

    assert url in lead_page
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Version {contact.policy.version}" in html
    assert "Hot: the lead's score was 85 when the clock started" in html
    assert "Checks out" in html
    receipt = response.context["receipt"]
    assert len(receipt.holds) == 1 and receipt.holds[0].resumed_at is not None
    assert receipt.counted == contact.allowed and receipt.due_at == contact.due_at


def test_the_score_on_the_receipt_is_the_one_when_the_clock_started(campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign, score=55), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    claim = Deadline.objects.get(lead=lead, kind=K.CLAIM)
    # Later the score changes (as marketing's rescoring records it on the timeline).
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.SCORED, data={"from": 55, "to": 95})
    Lead.objects.filter(pk=lead.pk).update(score=95)
    assert score_when(Lead.objects.get(pk=lead.pk), claim.starts_at) == 55
    assert score_when(Lead.objects.get(pk=lead.pk), timezone.now()) == 95


def test_the_receipt_is_open_to_the_lead_pages_roles_only(client, campaign, marketer, rep, manager, other_rep):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    claim = Deadline.objects.get(lead=lead)
    url = reverse("leads:deadline_receipt", args=[lead.pk, claim.pk])
    assert client.get(url).status_code == 302
    for person in (marketer, rep, other_rep, manager):
        assert signed_in(client, person).get(url).status_code == 200


@pytest.mark.parametrize(
    "path", ["/leads/{lead}/deadlines/{other}/", "/leads/{lead}/deadlines/999999/", "/leads/999999/deadlines/{mine}/"]
)
def test_a_deadline_of_another_lead_or_none_answers_404(client, campaign, marketer, rep, path):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    other = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    mine = Deadline.objects.get(lead=lead).pk
    url = path.format(lead=lead.pk, other=Deadline.objects.get(lead=other).pk, mine=mine)
    assert signed_in(client, rep).get(url).status_code == 404


def test_the_receipt_costs_the_same_queries_for_one_hold_or_three(client, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    contact = Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT)
    url = reverse("leads:deadline_receipt", args=[lead.pk, contact.pk])
    signed_in(client, rep)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    services.lead_hold(lead=lead, actor=rep, reason="Waiting")
    services.lead_resume(lead=lead, actor=rep)
    one = queries()
    for _ in range(2):
        services.lead_hold(lead=lead, actor=rep, reason="Waiting")
        services.lead_resume(lead=lead, actor=rep)
    assert len(deadline_holds(contact)) == 3
    assert queries() == one


def test_a_breach_on_the_timeline_links_to_its_deadlines_receipt(client, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    claim = Deadline.objects.get(lead=lead)
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.BREACH, note="Claim deadline missed", data={"deadline": claim.pk}
    )
    page = signed_in(client, rep).get(lead.get_absolute_url()).content.decode()
    assert page.count(reverse("leads:deadline_receipt", args=[lead.pk, claim.pk])) == 2, (
        "the deadline table and the breach"
    )
