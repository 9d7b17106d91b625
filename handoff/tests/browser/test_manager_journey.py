"""Journey 3: a manager watches the SLA, assigns a lead and changes the policy (a draft the manager, head
of both departments here, signs for each; beat's start job puts it in force), while the worker and beat
enforce the deadlines on their own."""

import datetime
from decimal import Decimal

import pytest

from conftest import LeadFactory, advance
from enforcement.tests.test_worker import wait_for
from leads.models import Lead
from notifications.models import Notification
from people.names import person_name
from sla.models import BusinessCalendar, Deadline, Department, DepartmentHead, OpeningHours, SlaPolicy
from sla.policies import policy_publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]

# 36 s: the shortest claim time a policy allows (0.01 business hours).
SHORT = Decimal("0.01")


def always_open_calendar() -> BusinessCalendar:
    """Business time that runs whenever the test does (no weekend, night or holiday in the way)."""
    calendar = BusinessCalendar.default_create()
    BusinessCalendar.objects.filter(pk=calendar.pk).update(name="Always open", time_zone="UTC", country="")
    calendar.opening_hours.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=day, opens=datetime.time(0), closes=datetime.time(23, 59, 59, 999999))
        for day in range(7)
    )
    return calendar


def test_a_manager_sees_a_breach_the_worker_found_assigns_and_publishes(open_tab, marketer, rep, manager, campaign):
    """A short policy lets a claim deadline pass with nobody touching it: the worker (sent the sweep by
    beat) records the breach, the dashboard shows it and the manager has the notification; the manager
    assigns another lead to a rep and drafts a new policy version, signs it for both departments (a small
    firm: one head for both), and beat's start job puts it in force."""
    # Given a lead waiting under the normal policy, and one handed off under a 36-second claim policy
    always_open_calendar()
    for department in Department:
        DepartmentHead.objects.create(department=department, user=manager)
    waiting = advance(
        LeadFactory(campaign=campaign, full_name="Wanda Waiting"), Lead.Status.HANDED_OFF, marketer=marketer, rep=None
    )
    policy_publish(
        actor=manager, note="Short for the test", claim_hours_hot=SHORT, claim_hours_warm=SHORT, claim_hours_cold=SHORT
    )
    late = advance(
        LeadFactory(campaign=campaign, full_name="Larry Late"), Lead.Status.HANDED_OFF, marketer=marketer, rep=None
    )
    tab = open_tab(manager)
    page = tab.page

    # When the manager assigns the waiting lead to a rep
    tab.visit("/leads/queue/", shot="queue")
    page.get_by_role("link", name="Wanda Waiting").click()
    tab.check(shot="lead")
    page.get_by_role("link", name="Assign…").click()
    tab.check(shot="assign")
    page.get_by_label("Give the lead to").select_option(str(rep.pk))
    page.get_by_role("button", name="Assign", exact=True).click()
    tab.check(shot="assigned")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.owner) == (Lead.Status.CLAIMED, rep)
    assert f"Wanda Waiting now belongs to {person_name(rep)}" in page.content()

    # and drafts a new policy version to start as soon as it is signed, and signs it for both sides
    tab.visit("/sla/policy/", shot="policy")
    page.get_by_role("link", name="Write a draft").click()
    tab.check(shot="policy-form")
    page.get_by_label("Why this change").fill("Back to normal after the test")
    for field in page.get_by_label("(business hours)").all()[:3]:
        field.fill("2")
    page.get_by_label("Starts at").fill("")
    page.get_by_role("button", name="Save the draft").click()
    tab.check(shot="policy-draft")
    page.get_by_role("button", name="Sign for sales").click()
    tab.check()
    page.get_by_role("button", name="Sign for marketing").click()
    tab.check(shot="policy-signed")
    assert wait_for(lambda: SlaPolicy.current().version == 3, timeout=30), "beat did not start the signed draft"
    assert SlaPolicy.current().claim_hours_hot == 2

    # Then, with nobody but the worker doing it, the short claim deadline is breached
    assert wait_for(lambda: Deadline.objects.filter(lead=late, breached_at__isnull=False).exists(), timeout=60), (
        "the worker did not record the breach within 60 s"
    )
    assert wait_for(
        lambda: Notification.objects.filter(user=manager, kind=Notification.Kind.BREACH, lead=late).exists(), timeout=20
    )
    # the dashboard shows it
    tab.visit("/dashboard/", shot="dashboard")
    assert "Larry Late" in page.content()
    # and the manager has the notification
    tab.visit("/notifications/", shot="notifications")
    assert "SLA breach: claim of Larry Late" in page.content()


def test_the_rep_a_manager_assigns_a_lead_to_is_notified(open_tab, marketer, rep, manager, campaign):
    """The manager assigns a waiting lead; the rep finds it in their notifications."""
    # Given a lead in the queue
    waiting = advance(
        LeadFactory(campaign=campaign, full_name="Wanda Waiting"), Lead.Status.HANDED_OFF, marketer=marketer, rep=None
    )
    # When the manager assigns it to the rep
    tab = open_tab(manager)
    tab.visit(f"/leads/{waiting.pk}/assign/")
    tab.page.get_by_label("Give the lead to").select_option(str(rep.pk))
    tab.page.get_by_role("button", name="Assign", exact=True).click()
    tab.check()
    # Then the rep is told, in the notification centre
    assert wait_for(
        lambda: Notification.objects.filter(user=rep, kind=Notification.Kind.ASSIGNED, lead=waiting).exists(),
        timeout=10,
    )
    rep_tab = open_tab(rep)
    rep_tab.visit("/notifications/", shot="notifications")
    assert "Wanda Waiting" in rep_tab.page.content()
