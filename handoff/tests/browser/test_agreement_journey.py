"""Journey 7: the SLA as an agreement. The head of sales drafts tighter hot-lead times to start at a
chosen moment, the head of marketing signs in another browser, beat's start job puts the draft in force
at that moment (not at the click), and a rep opens the receipt of a deadline set under it."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import LeadFactory, UserFactory, advance
from enforcement.tests.test_worker import wait_for
from leads.models import Lead
from people.roles import Role
from sla.models import Deadline, Department, DepartmentHead, PolicyDraft, SlaPolicy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]


def test_both_heads_sign_tighter_hot_lead_times_which_start_at_the_chosen_moment(
    open_tab, marketer, rep, manager, campaign
):
    head_of_sales = UserFactory(role=Role.MANAGERS, username="sales_head", first_name="Sally", last_name="Sales")
    head_of_marketing = UserFactory(role=Role.MANAGERS, username="marketing_head", first_name="Mark", last_name="Eting")
    DepartmentHead.objects.create(department=Department.SALES, user=head_of_sales)
    DepartmentHead.objects.create(department=Department.MARKETING, user=head_of_marketing)
    before = SlaPolicy.current()
    # The start: the first whole minute at least 40 s away, in the site's zone (the heads' zone here).
    zone = ZoneInfo(settings.TIME_ZONE)
    start = (timezone.now() + datetime.timedelta(seconds=100)).astimezone(zone).replace(second=0, microsecond=0)

    # The head of sales drafts tighter hot-lead times
    sales = open_tab(head_of_sales)
    page = sales.page
    sales.visit("/sla/policy/", shot="policy")
    page.get_by_role("link", name="Write a draft").click()
    sales.check(shot="draft-form")
    page.locator("#id_name").fill("Hot leads within half an hour")
    page.locator("#id_claim_hours_hot").fill("0.5")
    page.locator("#id_first_contact_hours_hot").fill("2")
    page.get_by_label("Why this change").fill("Hot leads go cold within the hour.")
    page.get_by_label("Starts at").fill(f"{start:%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Save the draft").click()
    sales.check(shot="draft")
    draft = PolicyDraft.objects.get()
    assert draft.starts_at == start
    page.get_by_role("button", name="Sign for sales").click()
    sales.check(shot="signed-for-sales")
    assert "waiting for Mark Eting" in page.content()
    assert page.get_by_role("button", name="Sign for marketing").count() == 0, "sales cannot sign for marketing"

    # the head of marketing reads it and signs in their own browser
    marketing = open_tab(head_of_marketing)
    marketing.visit(draft.get_absolute_url(), shot="draft")
    assert "0.5" in marketing.page.content()
    marketing.page.get_by_role("button", name="Sign for marketing").click()
    marketing.check(shot="signed-by-both")

    # Then it is not in force at the click, but at the chosen moment
    assert timezone.now() < start and SlaPolicy.current() == before
    assert wait_for(lambda: SlaPolicy.current().version == before.version + 1, timeout=150), "not started"
    started = SlaPolicy.current()
    draft.refresh_from_db()
    assert draft.started_at >= start
    assert (started.claim_hours_hot, started.first_contact_hours_hot) == (Decimal("0.5"), Decimal("2"))
    marketing.visit(draft.get_absolute_url(), shot="in-force")
    assert f"as version {started.version}" in marketing.page.content()

    # and a hot lead handed off now gets half an hour, which its receipt shows to the rep
    lead = advance(
        LeadFactory(campaign=campaign, full_name="Hedy Hot", score=90),
        Lead.Status.HANDED_OFF,
        marketer=marketer,
        rep=None,
    )
    claim = Deadline.objects.get(lead=lead, kind=Deadline.Kind.CLAIM)
    assert claim.policy == started
    tab = open_tab(rep)
    tab.visit(lead.get_absolute_url(), shot="lead")
    tab.page.get_by_role("link", name="Receipt").first.click()
    tab.check(shot="receipt")
    content = tab.page.content()
    assert f"Version {started.version}: Hot leads within half an hour" in content
    assert "Sally Sales for sales" in content and "Mark Eting for marketing" in content
    assert "0 h 30 min of business time" in content
