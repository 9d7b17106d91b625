"""Journey 9: appeals ruled on the record. A rep whose first contact the sweep recorded as breached opens
the breach's receipt and appeals it (the lead's phone number was wrong); the head of marketing finds it
from the dashboard's open appeals and upholds it; the dashboard shows first-contact attainment as recorded and as
ruled side by side, the breach excused in the ruled figure only."""

import datetime

import pytest
from django.utils import timezone

from appeals.models import Appeal, AppealRuling, Ruling
from conftest import LeadFactory, UserFactory, advance
from enforcement.tests.test_worker import wait_for
from leads.models import Lead, LeadEvent
from people.roles import Role
from sla.calendar import add_business_time
from sla.models import BusinessCalendar, Deadline, Department, DepartmentHead

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]


def missed_first_contact(lead: Lead, rep) -> Deadline:
    """Move the lead's first-contact clock to have started ten days ago, worked out by the clock's own
    calendar functions (so its receipt checks out): it fell due days ago and the sweep records the breach."""
    deadline = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
    spec = BusinessCalendar.objects.spec_for(rep)
    start = timezone.now() - datetime.timedelta(days=10)
    due = add_business_time(start, deadline.allowed, spec)
    warn = add_business_time(start, deadline.policy.warn_after(deadline.allowed), spec)
    Deadline.objects.filter(pk=deadline.pk).update(starts_at=start, due_at=due, given_due_at=due, warn_at=warn)
    return deadline


def test_a_rep_appeals_a_breach_from_its_receipt_and_the_head_of_marketing_upholds_it(
    open_tab, marketer, rep, campaign
):
    head_of_sales = UserFactory(role=Role.MANAGERS, username="sales_head", first_name="Sally", last_name="Sales")
    head_of_marketing = UserFactory(role=Role.MANAGERS, username="marketing_head", first_name="Mark", last_name="Eting")
    DepartmentHead.objects.create(department=Department.SALES, user=head_of_sales)
    DepartmentHead.objects.create(department=Department.MARKETING, user=head_of_marketing)
    lead = advance(
        LeadFactory(campaign=campaign, full_name="Wanda Wrongnumber"), Lead.Status.CLAIMED, marketer=marketer, rep=rep
    )
    deadline = missed_first_contact(lead, rep)
    assert wait_for(lambda: Deadline.objects.get(pk=deadline.pk).breached_at is not None, timeout=30), "not swept"

    # The rep opens the breach's receipt from the lead's timeline and appeals
    tab = open_tab(rep)
    page = tab.page
    tab.visit(lead.get_absolute_url(), shot="lead")
    page.locator(".event-breach").get_by_role("link", name="How its due time was worked out (receipt)").click()
    tab.check(shot="receipt")
    assert "This deadline was missed" in page.content()
    page.get_by_role("link", name="Appeal this breach").click()
    tab.check(shot="appeal-form")
    page.get_by_label("Why the breach should be excused").fill("The lead's phone number was wrong on the form.")
    page.get_by_role("button", name="Appeal").click()
    tab.check(shot="appealed")
    assert "Appeal made" in page.content()
    appeal = Appeal.objects.get()
    assert (appeal.deadline_id, appeal.appellant, appeal.charged_to) == (deadline.pk, rep, rep)

    # The head of marketing finds it in the open appeals and upholds it
    head = open_tab(head_of_marketing)
    head.visit("/dashboard/", shot="dashboard-before")
    assert head.page.locator(".open-appeals").inner_text() == "1"
    head.page.locator(".open-appeals").click()
    head.check(shot="appeals")
    head.page.locator(".appeals-to-rule").get_by_role("link", name="Wanda Wrongnumber").click()
    head.check(shot="ruling-form")
    head.page.get_by_label("Upheld: the breach is excused").check()
    head.page.get_by_label("Reasons").fill("Our web form let a wrong number through: marketing's data, not the rep.")
    head.page.get_by_role("button", name="Rule").click()
    head.check(shot="ruled")
    assert "Ruled: upheld" in head.page.content()
    assert AppealRuling.objects.get().outcome == Ruling.UPHELD
    kinds = list(LeadEvent.objects.filter(lead=lead).values_list("kind", flat=True))
    assert kinds[-2:] == [LeadEvent.Kind.APPEALED, LeadEvent.Kind.APPEAL_UPHELD]

    # The dashboard shows the first contacts as recorded (missed) and as ruled (excused)
    decided = Deadline.objects.get(pk=deadline.pk).due_at.date()
    head.visit(
        f"/dashboard/?period=custom&start={decided:%Y-%m-%d}&end={timezone.localdate():%Y-%m-%d}",
        shot="dashboard-after",
    )
    row = head.page.locator(".as-ruled-first_contacts")
    assert row.locator(".as-recorded").inner_text() == "0 %"
    assert row.locator(".excused").inner_text() == "1"
    assert row.locator(".late-as-ruled").inner_text() == "0"
    assert row.locator(".as-ruled-value").inner_text() == "–"
    assert head.page.locator(".open-appeals").inner_text() == "0"

    # and the rep's timeline keeps the appeal and the ruling
    tab.visit(lead.get_absolute_url(), shot="lead-after")
    assert "Appeal upheld: breach excused" in page.content()
