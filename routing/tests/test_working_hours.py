"""A rep's own working hours: routing picks them only inside both theirs and the team's; each rep sets
their own, managers anyone's; bad hours get a form error, never a 500."""

import datetime
from datetime import UTC, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import LeadFactory, UserFactory
from leads.models import RepProfile
from leads.tests.test_assignment import reps, team_of
from people.roles import Role
from routing import services
from routing.models import RoutingDecision, TimeOff, WorkingHours
from routing.router import WeightedRouter, candidates_at

pytestmark = pytest.mark.django_db


# A Wednesday; the test teams work around the clock in UTC.
WEDNESDAY_10 = datetime.datetime(2026, 12, 9, 10, tzinfo=UTC)
WEDNESDAYS_9_TO_17 = {2: (time(9), time(17))}


def route_at(moment, campaign):
    return WeightedRouter().route(lead=LeadFactory(campaign=campaign), now=moment)


def test_a_rep_outside_their_own_hours_is_passed_over_while_the_team_works(campaign):
    part_timer, colleague = reps(2)
    team_of(part_timer, colleague)
    services.working_hours_set(actor=part_timer, rep=part_timer, hours=WEDNESDAYS_9_TO_17)

    evening = WEDNESDAY_10.replace(hour=18)
    owners = {route_at(evening, campaign).profile.user for _ in range(3)}

    assert owners == {colleague}
    [entry] = [e for e in RoutingDecision.objects.first().considered if e.get("rep") == part_timer.pk]
    assert (entry["verdict"], entry["said"]) == ("off_hours", "outside their hours")
    assert entry["detail"].startswith("back Wed 16 Dec")


def test_inside_their_own_hours_a_rep_takes_their_turn(campaign):
    part_timer, colleague = reps(2)
    team_of(part_timer, colleague)
    services.working_hours_set(actor=part_timer, rep=part_timer, hours=WEDNESDAYS_9_TO_17)
    owners = [route_at(WEDNESDAY_10, campaign).profile.user for _ in range(4)]
    assert owners.count(part_timer) == 2


def test_when_nobody_works_the_lead_waits_until_the_first_own_hours_start(campaign):
    [part_timer] = reps(1)
    team_of(part_timer)
    services.working_hours_set(actor=part_timer, rep=part_timer, hours={3: (time(12), time(14))})
    routed = route_at(WEDNESDAY_10, campaign)
    assert routed.profile is None
    assert RoutingDecision.objects.get().retry_at == datetime.datetime(2026, 12, 10, 12, tzinfo=UTC)


def test_time_off_of_a_part_timer_ends_at_their_first_hours_back(campaign):
    part_timer, colleague = reps(2)
    team_of(part_timer, colleague)
    services.working_hours_set(actor=part_timer, rep=part_timer, hours={4: (time(14), time(18))})
    TimeOff.objects.create(
        rep=part_timer, starts_on=datetime.date(2026, 12, 9), ends_on=datetime.date(2026, 12, 11), created_by=part_timer
    )
    assert route_at(WEDNESDAY_10, campaign).profile.user == colleague
    [entry] = [e for e in RoutingDecision.objects.first().considered if e.get("rep") == part_timer.pk]
    # Back Monday? No: they work Fridays only, and the Friday after is the 18th.
    assert (entry["verdict"], entry["detail"]) == (
        "time_off",
        "back Fri 18 Dec 15:00 CET",
    )  # 14:00 UTC, in the site's zone


def test_hours_that_never_meet_the_teams_are_refused(rep):
    team = team_of(rep)
    team.calendar.opening_hours.exclude(weekday=0).delete()  # the team works Mondays only
    with pytest.raises(ValidationError, match="never meet"):
        services.working_hours_set(actor=rep, rep=rep, hours={1: (time(9), time(17))})
    assert not WorkingHours.objects.exists()


def test_only_managers_set_another_reps_hours(rep, other_rep, manager):
    with pytest.raises(PermissionDenied):
        services.working_hours_set(actor=rep, rep=other_rep, hours={0: (time(9), time(12))})
    services.working_hours_set(actor=manager, rep=other_rep, hours={0: (time(9), time(12))})
    assert WorkingHours.objects.get().rep == other_rep


class TestPage:
    def test_a_rep_sets_and_clears_their_own_hours(self, client, rep):
        team_of(rep)
        client.force_login(rep)
        response = client.post(reverse("routing:hours"), {"starts_0": "08:00", "ends_0": "13:00"})
        assert response.status_code == 302
        row = WorkingHours.objects.get()
        assert (row.rep, row.weekday, row.starts, row.ends) == (rep, 0, time(8), time(13))
        page = client.get(reverse("routing:hours")).text
        assert 'value="08:00"' in page and "Your working hours" in page

        client.post(reverse("routing:hours"), {})
        assert not WorkingHours.objects.exists()

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"starts_0": "13:00", "ends_0": "08:00"}, "must end after it starts"),
            ({"starts_2": "09:00"}, "start and end"),
            ({"starts_1": "25:99", "ends_1": "26:00"}, "Enter a valid time"),
            ({"starts_3": "'; DROP TABLE x;--", "ends_3": "09:00"}, "Enter a valid time"),
        ],
    )
    def test_bad_hours_get_a_message_and_keep_what_was_there(self, client, rep, data, error):
        team_of(rep)
        services.working_hours_set(actor=rep, rep=rep, hours={4: (time(10), time(12))})
        client.force_login(rep)
        response = client.post(reverse("routing:hours"), data)
        assert response.status_code == 200
        assert error in response.text
        assert list(WorkingHours.objects.values_list("weekday", "starts")) == [(4, time(10))]

    def test_a_rep_never_reads_nor_sets_anothers_hours(self, client, rep, other_rep):
        client.force_login(rep)
        assert client.get(reverse("routing:rep_hours", args=[other_rep.pk])).status_code == 404
        assert client.post(reverse("routing:rep_hours", args=[other_rep.pk]), {"starts_0": "08:00"}).status_code == 404
        assert not WorkingHours.objects.exists()

    def test_a_manager_sets_a_reps_hours_from_the_time_off_page(self, client, manager, rep):
        team_of(rep)
        client.force_login(manager)
        assert reverse("routing:rep_hours", args=[rep.pk]) in client.get(reverse("routing:time_off")).text
        client.post(reverse("routing:rep_hours", args=[rep.pk]), {"starts_6": "10:00", "ends_6": "14:00"})
        assert WorkingHours.objects.get().rep == rep
        assert client.get(reverse("routing:rep_hours", args=[manager.pk])).status_code == 404  # not a rep

    def test_marketers_have_no_hours_page(self, client, marketer):
        client.force_login(marketer)
        assert client.get(reverse("routing:hours")).status_code == 403


def test_reading_the_reps_costs_the_same_queries_with_hours_and_time_off(rep):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            candidates_at(WEDNESDAY_10)
        return len(captured)

    team = team_of(rep)
    few = queries()
    for user in [UserFactory(username=f"pt{i}", role=Role.SALES) for i in range(6)]:
        RepProfile.objects.create(user=user, team=team)
        services.working_hours_set(actor=user, rep=user, hours={0: (time(8), time(12)), 2: (time(13), time(18))})
        TimeOff.objects.create(
            rep=user, starts_on=WEDNESDAY_10.date(), ends_on=datetime.date(2026, 12, 12), created_by=user
        )
    assert len(candidates_at(WEDNESDAY_10)) == 7
    assert queries() == few == 2
