"""The SLA due times a lead's moves get from the calendars: the owner's team calendar, else the default."""

from datetime import date, time, timedelta

import pytest

from conftest import LeadFactory, UserFactory, advance
from leads.models import Lead, RepProfile, SalesTeam
from people.roles import Role
from sla.calendar import add_business_time
from sla.clocks import deadline_set
from sla.models import BusinessCalendar, CalendarHoliday, Deadline, OpeningHours
from sla.tests.test_calendar import HOUR, NINE_TO_FIVE, calendar_create, head_office


@pytest.mark.django_db
def test_a_rep_in_a_team_with_its_own_calendar_gets_due_times_in_that_calendar(marketer, rep, campaign):
    """The first-contact clock of a rep whose team works 08:00–20:00 in New York every day counts in
    that calendar; the claim clock, owned by nobody, counts in the default calendar."""
    new_york = calendar_create("New York", zone="America/New_York", hours={d: [(time(8), time(20))] for d in range(7)})
    team = SalesTeam.objects.create(name="East coast", calendar=new_york)
    RepProfile.objects.create(user=rep, team=team)

    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)

    claim = Deadline.objects.get(lead=lead, kind=Deadline.Kind.CLAIM)
    contact = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
    assert claim.due_at == add_business_time(claim.starts_at, 4 * HOUR, head_office())
    assert contact.due_at == add_business_time(contact.starts_at, 8 * HOUR, new_york.spec())
    assert contact.due_at != add_business_time(contact.starts_at, 24 * HOUR, head_office())


@pytest.mark.django_db
def test_without_any_calendar_the_default_is_created_again(marketer, rep, campaign):
    """If the calendars were wiped (a flushed database), the next deadline recreates the default."""
    OpeningHours.objects.all().delete()
    BusinessCalendar.objects.all().delete()

    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)

    claim = Deadline.objects.get(lead=lead)
    assert BusinessCalendar.objects.get(is_default=True).spec() == head_office()
    assert claim.due_at == add_business_time(claim.starts_at, 4 * HOUR, head_office())


@pytest.mark.django_db
def test_setting_a_deadline_costs_the_same_few_queries_however_many_holidays(
    marketer, rep, campaign, django_assert_num_queries
):
    """One query reads the owner's calendar with its hours and holidays, one inserts the deadline:
    two, with 1 or 50 holidays and with or without a team calendar."""
    team_calendar = calendar_create("Team", zone="Europe/Berlin", hours=NINE_TO_FIVE)
    RepProfile.objects.create(user=rep, team=SalesTeam.objects.create(name="Team", calendar=team_calendar))
    for count, calendar in ((1, BusinessCalendar.objects.get(is_default=True)), (50, team_calendar)):
        CalendarHoliday.objects.bulk_create(
            CalendarHoliday(calendar=calendar, date=date(2030, 1, 1) + timedelta(days=i), name="Closed")
            for i in range(count)
        )
    for owner in (None, rep, UserFactory(role=Role.SALES)):
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
        handoff = lead.handoffs.select_related("policy").get()

        with django_assert_num_queries(2):
            deadline_set(handoff=handoff, kind=Deadline.Kind.FIRST_CONTACT, now=handoff.handed_off_at, owner=owner)
