"""Missed deadlines to appeal, and the two heads who rule on them: fixtures for the appeals' tests and
the dashboard's figures as ruled (reporting/tests/test_as_ruled.py)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import LeadFactory, UserFactory
from leads.models import RepProfile, SalesTeam
from people.roles import Role
from sla.clocks import deadline_set
from sla.models import Deadline, Department, DepartmentHead, Handoff, SlaPolicy

K = Deadline.Kind
# Monday 2 November 2026, 10:00 in Berlin (the default calendar: Mon–Fri 09–17): every clock started
# then has fallen due long before the tests run.
START = datetime.datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def heads(db):
    """The head of sales and the head of marketing: two managers."""
    sales = UserFactory(username="head_sales", first_name="Sam", last_name="Sales", role=Role.MANAGERS)
    marketing = UserFactory(username="head_marketing", first_name="Mia", last_name="Marketing", role=Role.MANAGERS)
    DepartmentHead.objects.create(department=Department.SALES, user=sales)
    DepartmentHead.objects.create(department=Department.MARKETING, user=marketing)
    return {Department.SALES: sales, Department.MARKETING: marketing}


@pytest.fixture
def team(rep, manager):
    """rep's team, led by `manager`."""
    north = SalesTeam.objects.create(name="North", manager=manager)
    RepProfile.objects.create(user=rep, team=north)
    return north


@pytest.fixture
def missed(campaign, marketer):
    """A factory of missed deadlines: `missed(kind, owner)` sets one at START on a lead of its own."""

    def make(kind: str = K.FIRST_CONTACT, owner=None, *, start: datetime.datetime = START) -> Deadline:
        lead = LeadFactory(campaign=campaign)
        handoff = Handoff.objects.create(
            lead=lead, handed_off_by=marketer, handed_off_at=start, policy=SlaPolicy.current()
        )
        return deadline_set(handoff=handoff, kind=kind, now=start, owner=owner, score=lead.score)

    return make
