"""Routing: only reps on shift get leads, in proportion to their weight, and every decision says why."""

import datetime
from collections import Counter
from datetime import UTC, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LeadFactory, around_the_clock
from leads import services
from leads.models import Lead, LeadEvent, RepProfile, SalesTeam
from leads.tests.test_assignment import mql, reps, team_of, waiting
from routing.models import RoutingDecision, TimeOff
from routing.router import WeightedRouter, waiting_leads_route
from routing.services import working_hours_set
from sla.models import BusinessCalendar
from sla.tests.test_calendar import calendar_create

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def closed_now_opens_in_three_days() -> BusinessCalendar:
    """A calendar shut right now, open one hour a week, three days from now (in UTC). The hour ends
    by midnight: run at 23:xx UTC, it is 22:00–23:00 of that day (an opening hour 23:00–00:00 would
    close before it opens, which the table refuses)."""
    opens = timezone.now().astimezone(UTC) + timedelta(days=3)
    start = time(min(opens.hour, 22))
    return calendar_create("Once a week", zone="UTC", hours={opens.weekday(): [(start, time(start.hour + 1))]})


class TestShifts:
    def test_a_rep_whose_team_is_closed_gets_no_lead_and_the_lead_says_when_it_will_be_routed(
        self, client, marketer, manager, campaign
    ):
        night, day = reps(2)
        team_of(day)
        night_team = team_of(night)
        SalesTeam.objects.filter(pk=night_team.pk).update(calendar=closed_now_opens_in_three_days())
        RepProfile.objects.filter(user=day).update(is_away=True)

        lead = waiting(campaign, marketer)

        assert lead.owner is None
        decision = RoutingDecision.objects.get(lead=lead)
        assert sorted(decision.considered, key=lambda entry: entry["verdict"]) == [
            {
                "rep": day.pk,
                "name": day.get_full_name(),
                "team": "Team 1",
                "verdict": "away",
                "said": "out of office",
                "detail": "",
            },
            {
                "team": "Team 2",
                "verdict": "off_shift",
                "said": "off shift",
                "reps": 1,
                "detail": decision.considered[1]["detail"],
            },
        ]
        assert decision.considered[1]["detail"].startswith("back ")
        assert decision.retry_at is not None and decision.retry_at > timezone.now() + timedelta(days=2)
        client.force_login(manager)
        page = client.get(reverse("leads:detail", args=[lead.pk])).text
        assert "goes to the first rep" in page and "off shift" in page

    def test_a_waiting_lead_goes_to_the_first_rep_whose_shift_starts(self, marketer, campaign):
        [rep] = reps(1)
        team = team_of(rep)
        SalesTeam.objects.filter(pk=team.pk).update(calendar=closed_now_opens_in_three_days())
        lead = waiting(campaign, marketer)
        retry_at = RoutingDecision.objects.get(lead=lead).retry_at
        assert waiting_leads_route(now=retry_at - timedelta(minutes=1)) == 0

        SalesTeam.objects.filter(pk=team.pk).update(calendar=around_the_clock())  # the shift has started
        assert waiting_leads_route(now=retry_at) == 1

        lead.refresh_from_db()
        assert lead.owner == rep
        latest = lead.routing_decisions.first()
        assert (latest.trigger, latest.chosen, latest.retry_at) == ("shift_start", rep, None)
        assert not RoutingDecision.objects.filter(retry_at__isnull=False).exists()
        assert waiting_leads_route(now=retry_at) == 0  # nothing left to retry

    def test_time_off_is_passed_over_from_its_first_to_its_last_day(self, marketer, campaign):
        off, working = reps(2)
        team_of(off, working)
        today = timezone.now().astimezone(UTC).date()
        TimeOff.objects.create(
            rep=off, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=1), created_by=off
        )

        owners = {waiting(campaign, marketer).owner for _ in range(3)}

        assert owners == {working}
        [entry] = [e for e in RoutingDecision.objects.first().considered if e["rep"] == off.pk]
        assert entry["verdict"] == "time_off" and entry["detail"].startswith("back ")

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        moment=st.datetimes(
            min_value=datetime.datetime(2026, 3, 25), max_value=datetime.datetime(2026, 11, 5), timezones=st.just(UTC)
        )
    )
    def test_nobody_off_shift_or_off_is_ever_chosen_across_dst_and_holidays(self, moment, marketer, campaign):
        """Berlin's Mon–Fri 9–17 team, Easter Monday and a company day closed, a rep off one week, a
        part-timer on Tuesdays and Thursdays 12–20 (so 12–17); an independent reading of the wall
        clock decides who may be chosen."""
        if not SalesTeam.objects.filter(name="Berlin").exists():
            berlin = calendar_create(
                "Berlin days",
                zone="Europe/Berlin",
                hours={day: [(time(9), time(17))] for day in range(5)},
                holidays=[datetime.date(2026, 4, 6), datetime.date(2026, 10, 30)],
            )
            team = SalesTeam.objects.create(name="Berlin", auto_assign=True, calendar=berlin)
            alice, bob, carol = reps(3)
            for rep in (alice, bob, carol):
                RepProfile.objects.update_or_create(user=rep, defaults={"team": team})
            TimeOff.objects.create(
                rep=bob, starts_on=datetime.date(2026, 6, 1), ends_on=datetime.date(2026, 6, 7), created_by=bob
            )
            working_hours_set(actor=carol, rep=carol, hours={1: (time(12), time(20)), 3: (time(12), time(20))})
        lead = LeadFactory(campaign=campaign)
        routed = WeightedRouter().route(lead=lead, now=moment)

        local = moment.astimezone(BERLIN)
        open_now = (
            local.weekday() < 5
            and time(9) <= local.time() < time(17)
            and local.date() not in {datetime.date(2026, 4, 6), datetime.date(2026, 10, 30)}
        )
        may_take = {"rr0"} if open_now else set()
        if open_now and not datetime.date(2026, 6, 1) <= local.date() <= datetime.date(2026, 6, 7):
            may_take.add("rr1")
        if open_now and local.weekday() in (1, 3) and local.time() >= time(12):
            may_take.add("rr2")
        if not may_take:
            assert routed.profile is None
        else:
            assert routed.profile is not None
            assert routed.profile.user.username in may_take


class TestWeights:
    def test_weights_share_the_leads_within_one(self, marketer, campaign):
        light, heavy, other = reps(3)
        team_of(light, heavy, other)
        RepProfile.objects.filter(user=heavy).update(weight=2)

        owners = Counter(waiting(campaign, marketer).owner for _ in range(40))

        assert abs(owners[heavy] - 20) <= 1 and abs(owners[light] - 10) <= 1 and abs(owners[other] - 10) <= 1

    def test_a_rep_back_from_away_catches_up_by_two_leads_not_a_flood(self, marketer, campaign):
        stayed, back = reps(2)
        team_of(stayed, back)
        RepProfile.objects.filter(user=back).update(is_away=True)
        for _ in range(10):
            assert waiting(campaign, marketer).owner == stayed
        RepProfile.objects.filter(user=back).update(is_away=False)

        next_owners = [waiting(campaign, marketer).owner for _ in range(6)]

        assert next_owners[:3] == [back, back, stayed]  # two leads of catch-up (CATCH_UP), then turns
        assert Counter(next_owners[2:]) == {stayed: 2, back: 2}


class TestTheRecord:
    def test_the_timeline_says_who_got_the_lead_and_why_the_others_did_not(self, marketer, campaign):
        full, away, free = reps(3)
        team_of(full, away, free, capacity=1)
        RepProfile.objects.filter(user=away).update(is_away=True)
        SalesTeam.objects.update(auto_assign=False)
        services.lead_claim(lead=waiting(campaign, marketer), rep=full)  # full claims one: at capacity, first in turn
        SalesTeam.objects.update(auto_assign=True)

        lead = waiting(campaign, marketer)

        assert lead.owner == free
        note = lead.events.get(kind=LeadEvent.Kind.ASSIGNED).note
        assert note.startswith(f"Assigned by round-robin to {free.get_full_name()}, on shift with room")
        assert f"{full.get_full_name()} (at capacity, 1 of 1 open leads)" in note
        assert f"{away.get_full_name()} (not available)" in note and "out of office" not in note
        decision = lead.routing_decisions.first()
        assert (decision.chosen, decision.trigger, decision.retry_at) == (free, "hand_off", None)
        assert {e["verdict"] for e in decision.considered} == {"at_capacity", "away", "chosen"}

    def test_managers_read_the_routing_log_by_rep(self, client, marketer, manager, campaign):
        first, second = reps(2)
        team_of(first, second)
        leads = [waiting(campaign, marketer) for _ in range(2)]
        client.force_login(manager)

        page = client.get(reverse("routing:log"), {"rep": second.pk}).text

        assert leads[1].full_name in page and leads[0].full_name not in page
        assert "Who was considered" in page and "not their turn" in page

    @pytest.mark.parametrize("who", ["rep", "marketer"])
    def test_only_managers_read_the_routing_log(self, client, who, request):
        client.force_login(request.getfixturevalue(who))
        assert client.get(reverse("routing:log")).status_code == 403

    def test_the_log_costs_the_same_queries_for_few_or_many_decisions(
        self, client, marketer, manager, campaign, django_assert_max_num_queries
    ):
        team_of(*reps(3))
        client.force_login(manager)
        counts = []
        for more in (2, 20):
            for _ in range(more):
                waiting(campaign, marketer)
            with django_assert_max_num_queries(20) as captured:
                assert client.get(reverse("routing:log")).status_code == 200
            counts.append(len(captured))
        assert counts[0] == counts[1]


def test_a_lead_handed_off_with_no_automatic_team_waits_quietly(marketer, campaign):
    """No team assigns automatically: the queue, as before, and a record saying so."""
    lead = mql(campaign, marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.HANDED_OFF, None)
    assert lead.routing_decisions.get().note == "Nobody could take it: no team assigns automatically."
