"""The managers' SLA dashboard: figures that add up, in a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, UserFactory
from handoff.dashboard import sla_dashboard
from handoff.models import Deadline
from handoff.roles import Role
from handoff.sweep import sweep_deadlines
from leads import services

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def hand_off(campaign, marketer):
    lead = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    return lead


def backdate(lead, kind, *, hours_late: float):
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=kind).update(
        starts_at=now - 30 * HOUR, due_at=now - datetime.timedelta(hours=hours_late)
    )


def test_figures_count_waiting_breached_and_attainment(marketer, rep, other_rep, campaign):
    # Given: one lead waiting on time, one waiting past its claim deadline (breached by the sweep),
    # one claimed and contacted on time by `rep`, one claimed by `other_rep` and late for first contact.
    hand_off(campaign, marketer)
    late_claim = hand_off(campaign, marketer)
    backdate(late_claim, Deadline.Kind.CLAIM, hours_late=2)
    good = hand_off(campaign, marketer)
    services.lead_claim(lead=good, rep=rep)
    services.lead_log_first_contact(lead=good, actor=rep)
    slow = hand_off(campaign, marketer)
    services.lead_claim(lead=slow, rep=other_rep)
    backdate(slow, Deadline.Kind.FIRST_CONTACT, hours_late=1)
    assert sweep_deadlines() == 2

    # When
    dashboard = sla_dashboard(now=timezone.now())

    # Then
    assert dashboard.waiting == 2
    assert dashboard.overdue_now == 2
    assert dashboard.claims["breached"] == 1
    assert dashboard.first_contacts["breached"] == 1
    # Claims: good and slow on time, late_claim breached → 2 of 3. Contacts: 1 of 2.
    assert dashboard.claims["attainment"] == pytest.approx(66.7)
    assert dashboard.first_contacts["attainment"] == 50.0
    assert dashboard.attainment == 60.0
    rows = {row.rep: row for row in dashboard.reps}
    assert (rows[rep].claims, rows[rep].contacts_on_time, rows[rep].contacts_late, rows[rep].open_leads) == (1, 1, 0, 1)
    assert (rows[other_rep].contacts_late, rows[other_rep].overdue_now, rows[other_rep].attainment) == (1, 1, 0.0)
    assert {d.lead for d in dashboard.late_deadlines} == {late_claim, slow}


def test_a_deadline_met_late_before_the_sweep_ran_still_counts_as_late(marketer, rep, campaign):
    lead = hand_off(campaign, marketer)
    backdate(lead, Deadline.Kind.CLAIM, hours_late=0.5)
    services.lead_claim(lead=lead, rep=rep)
    dashboard = sla_dashboard(now=timezone.now())
    assert (dashboard.claims["on_time"], dashboard.claims["late"]) == (0, 1)


def test_nothing_measured_yet_shows_no_attainment(manager, client):
    assert sla_dashboard(now=timezone.now()).attainment is None
    client.force_login(manager)
    assert client.get(reverse("dashboard")).status_code == 200


def test_dashboard_page_uses_a_constant_number_of_queries(client, manager, marketer, rep, campaign):
    client.force_login(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("dashboard")).status_code == 200
        return len(captured)

    lead = hand_off(campaign, marketer)
    services.lead_claim(lead=lead, rep=rep)
    before = queries()
    for _ in range(10):
        more = hand_off(campaign, marketer)
        backdate(more, Deadline.Kind.CLAIM, hours_late=1)
    sweep_deadlines()
    UserFactory.create_batch(5, role=Role.SALES)
    assert queries() == before


def test_an_overdue_deadline_counts_as_late_even_before_the_sweep_records_it(marketer, campaign):
    """A stopped worker must not make the SLA look perfect."""
    lead = hand_off(campaign, marketer)
    backdate(lead, Deadline.Kind.CLAIM, hours_late=1)
    dashboard = sla_dashboard(now=timezone.now())
    assert (dashboard.claims["breached"], dashboard.claims["late"], dashboard.overdue_now) == (0, 1, 1)
    assert dashboard.attainment == 0.0
