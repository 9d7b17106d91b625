"""The timeline's read model: counted when events are written, equal to a rebuild from the timeline."""

import random
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from conftest import ROUTES, CampaignFactory, LeadFactory, UserFactory, move
from leads import deals
from leads.counts import counts_rebuild, counts_sum
from leads.models import Deal, EventCount, Lead, LeadEvent, RepProfile, SalesTeam
from people.roles import Role

S = Lead.Status


def _snapshot() -> set[tuple]:
    return set(EventCount.objects.values_list("day", "kind", "subgroup", "campaign_id", "user_id", "value", "amount"))


def _random_history(seed: int, marketer, reps) -> None:
    """Leads from two campaigns walked along random legal routes by random reps; some deals won."""
    rng = random.Random(seed)
    campaigns = [CampaignFactory(owner=marketer), CampaignFactory(owner=marketer)]
    for _ in range(25):
        lead = LeadFactory(campaign=rng.choice(campaigns))
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CAPTURED, data={"source": "form"})
        rep = rng.choice(reps)
        for step in ROUTES[rng.choice(list(ROUTES))]:
            lead = move(lead, step, marketer=marketer, rep=rep)
        if lead.status == S.CONVERTED and rng.random() < 0.7:
            deals.deal_move(deal=Deal.objects.get(lead=lead), actor=rep, stage=Deal.Stage.WON)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_kept_when_events_happen_equal_a_rebuild_from_the_timeline(seed, marketer):
    """Whatever the history, the counts the trigger kept match a recount of the whole timeline."""
    team = SalesTeam.objects.create(name="North")
    reps = [UserFactory(role=Role.SALES) for _ in range(3)]
    RepProfile.objects.create(user=reps[0], team=team)
    _random_history(seed, marketer, reps)
    incremental = _snapshot()
    assert incremental, "the history wrote no counts"

    counts_rebuild()

    assert _snapshot() == incremental


def test_every_event_is_counted_once_in_its_day_campaign_and_rep(marketer, rep, campaign):
    """A claim counts for the rep who claimed, in the campaign's row of that day; bulk inserts count too."""
    lead = LeadFactory(campaign=campaign)
    for step in ROUTES[S.CLAIMED]:
        move(lead, step, marketer=marketer, rep=rep)
    LeadEvent.objects.bulk_create(
        [LeadEvent(lead=lead, kind=LeadEvent.Kind.WARNING, data={"kind": "claim", "owner": rep.pk}) for _ in range(3)]
    )
    today = timezone.localdate()

    claims = counts_sum("claimed", first_day=today, last_day=today, by=("campaign", "user"))
    warnings = counts_sum("warning", first_day=today, last_day=today, by=("subgroup", "user"))

    assert claims == [{"campaign": campaign.pk, "user": rep.pk, "value": 1, "amount": 0}]
    assert warnings == [{"subgroup": "claim", "user": rep.pk, "value": 3, "amount": 0}]


def test_converted_and_won_values_are_summed(marketer, rep, campaign):
    lead = LeadFactory(campaign=campaign)
    for step in ROUTES[S.CONVERTED]:
        move(lead, step, marketer=marketer, rep=rep)
    deals.deal_move(deal=Deal.objects.get(lead=lead), actor=rep, stage=Deal.Stage.WON)
    today = timezone.localdate()

    won = counts_sum(
        "deal_stage", first_day=today - timedelta(days=1), last_day=today + timedelta(days=1), by=("subgroup",)
    )

    assert {"subgroup": "won", "value": 1, "amount": 1000} in won


def test_the_day_is_the_sites_whatever_the_session_zone(marketer, campaign):
    """The site is in Berlin: an event at 23:30 UTC on 28 February is on 1 March there, even when a psql
    session in another zone inserts it."""
    lead = LeadFactory(campaign=campaign)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Asia/Kolkata'")
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.SCORED, created_at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
        )
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # Django reads timestamps in UTC
    row = EventCount.objects.get(kind="scored")
    assert row.day == date(2026, 3, 1)


def test_after_a_change_of_time_zone_the_rebuild_counts_in_the_new_zone(settings, marketer, campaign):
    """The zone is written into the trigger: `rebuild_counts` recounts in the new zone and installs the
    trigger again, so the next events count in it too."""
    lead = LeadFactory(campaign=campaign)
    late_evening_in_new_york = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # 1 March in New York, 2 March in Berlin
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.SCORED, created_at=late_evening_in_new_york)
    assert EventCount.objects.get(kind="scored").day == date(2026, 3, 2)

    settings.TIME_ZONE = "America/New_York"
    call_command("rebuild_counts", stdout=StringIO())
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.SCORED, created_at=late_evening_in_new_york)

    assert list(EventCount.objects.filter(kind="scored").values_list("day", "value")) == [(date(2026, 3, 1), 2)]


def test_rebuild_command_recounts_what_was_lost(marketer, rep, campaign):
    lead = LeadFactory(campaign=campaign)
    move(lead, S.MQL, marketer=marketer, rep=rep)
    expected = _snapshot()
    EventCount.objects.all().delete()

    call_command("rebuild_counts", stdout=StringIO())

    assert _snapshot() == expected


def test_a_breach_the_sweep_records_counts_against_the_rep_who_held_the_clock(marketer, rep, campaign):
    """The sweep writes breaches in bulk with no actor: the count names the deadline's owner."""
    from enforcement.sweep import sweep_deadlines
    from sla.models import Deadline

    lead = LeadFactory(campaign=campaign)
    for step in ROUTES[S.CLAIMED]:
        move(lead, step, marketer=marketer, rep=rep)
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).update(
        starts_at=now - timedelta(hours=10), due_at=now - timedelta(hours=1)
    )

    sweep_deadlines(now=now)

    today = timezone.localdate(now)
    breaches = counts_sum("breach", first_day=today, last_day=today, by=("subgroup", "user"))
    assert breaches == [{"subgroup": "first_contact", "user": rep.pk, "value": 1, "amount": 0}]
