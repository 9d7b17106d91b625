"""The SLA clock: per-priority policy tiers, the warning time, pausing the clock while a lead is on hold,
and marketing's follow-up deadline on a lead sales returned.

Times are computed in the default calendar (Mon–Fri 09:00–17:00, Europe/Berlin, German public holidays).
Where a test needs exact times it calls sla/clocks.py with explicit `now` values in a week of March 2025
without holidays; where it goes through the services it computes its expectations with the same
calendar functions, so it passes at any time of day.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.capture import lead_merge
from common.localtime import moment_text
from conftest import LeadFactory, advance
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Lead, LeadEvent, RepProfile, SalesTeam
from leads.queries import rep_worklist
from reporting.dashboard import Filters, Period, attention_now, sla_dashboard
from sla.calendar import add_business_days, add_business_time, business_time_between
from sla.clocks import deadline_set, deadlines_pause, deadlines_resume
from sla.models import BusinessCalendar, Deadline, Handoff, SlaPolicy

pytestmark = pytest.mark.django_db

S = Lead.Status
K = Deadline.Kind
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = datetime.timedelta(hours=1)


def berlin(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A wall time in Berlin in the week of Monday 3 March 2025 (and the next): no holidays, no DST jump."""
    return datetime.datetime(2025, 3, day, hour, minute, tzinfo=BERLIN)


def default_spec():
    return BusinessCalendar.objects.spec_for(None)


def bare_handoff(lead, marketer) -> Handoff:
    """A handoff with no clocks, to set deadlines on at chosen times (the lead's status does not matter
    to sla/clocks.py)."""
    return Handoff.objects.create(
        lead=lead, handed_off_by=marketer, handed_off_at=berlin(3, 9), policy=SlaPolicy.current()
    )


# --- Policy tiers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "priority", "claim_hours", "contact_hours"),
    [
        (95, "hot", 1, 4),
        (80, "hot", 1, 4),
        (79, "warm", 4, 8),
        (50, "warm", 4, 8),
        (49, "cold", 8, 24),
        (0, "cold", 8, 24),
    ],
)
def test_each_priority_tier_gets_its_claim_and_first_contact_time(
    score, priority, claim_hours, contact_hours, campaign, marketer, rep
):
    """Given a lead of score `score`, when it is handed off and claimed, then its claim clock gets the
    tier's claim hours and its first-contact clock the tier's contact hours, in business time, and both
    record the tier."""
    lead = advance(LeadFactory(campaign=campaign, score=score), S.CLAIMED, marketer=marketer, rep=rep)

    spec = default_spec()
    claim = Deadline.objects.get(lead=lead, kind=K.CLAIM)
    contact = Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT)
    for deadline, hours in ((claim, claim_hours), (contact, contact_hours)):
        assert deadline.priority == priority
        assert deadline.allowed == datetime.timedelta(hours=hours)
        assert deadline.due_at == deadline.given_due_at == add_business_time(deadline.starts_at, hours * HOUR, spec)
    assert contact.owner == rep


def test_tier_times_are_business_hours_across_the_night(campaign, marketer):
    """A hot lead handed off at 16:30 must be claimed by 09:30 the next morning; a cold one by 16:30."""
    hot = bare_handoff(LeadFactory(campaign=campaign, score=90), marketer)
    cold = bare_handoff(LeadFactory(campaign=campaign, score=10), marketer)

    hot_claim = deadline_set(handoff=hot, kind=K.CLAIM, now=berlin(3, 16, 30))
    cold_claim = deadline_set(handoff=cold, kind=K.CLAIM, now=berlin(3, 16, 30))

    assert hot_claim.due_at == berlin(4, 9, 30)
    assert cold_claim.due_at == berlin(4, 16, 30)


def test_a_new_policy_version_applies_to_new_deadlines_only(campaign, marketer, rep):
    """Given a warm lead handed off under version 1 (claim within 4 h), when version 2 gives warm leads
    2 h, then a lead handed off afterwards gets 2 h, while the first lead's clock keeps its 4 h and its
    version, and so does the rest of its pass."""
    before = advance(LeadFactory(campaign=campaign, score=60), S.HANDED_OFF, marketer=marketer, rep=rep)
    first_version = SlaPolicy.current()
    old_claim = Deadline.objects.get(lead=before, kind=K.CLAIM)

    newer = SlaPolicy.objects.create(
        version=first_version.version + 1, claim_hours_warm=Decimal("2"), first_contact_hours_warm=Decimal("3")
    )
    after = advance(LeadFactory(campaign=campaign, score=60), S.HANDED_OFF, marketer=marketer, rep=rep)

    new_claim = Deadline.objects.get(lead=after, kind=K.CLAIM)
    assert (new_claim.policy, new_claim.allowed) == (newer, 2 * HOUR)
    old_claim_now = Deadline.objects.get(pk=old_claim.pk)
    assert (old_claim_now.policy, old_claim_now.allowed, old_claim_now.due_at) == (
        first_version,
        4 * HOUR,
        old_claim.due_at,
    )
    # The pass handed off under version 1 keeps it for its first-contact clock too.
    services.lead_claim(lead=before, rep=rep)
    contact = Deadline.objects.get(lead=before, kind=K.FIRST_CONTACT)
    assert (contact.policy, contact.allowed) == (first_version, 8 * HOUR)


@pytest.mark.parametrize(
    ("score", "now", "warn_at", "due_at"),
    [
        # Warm claim: 4 h, warned after 3 h.
        (60, berlin(3, 10), berlin(3, 13), berlin(3, 14)),
        # Cold claim: 8 h from Monday 15:00, warned after 6 h — across the night.
        (10, berlin(3, 15), berlin(4, 13), berlin(4, 15)),
        # Hot claim: 1 h from Friday 16:50, warned after 45 min — across the weekend.
        (90, berlin(7, 16, 50), berlin(10, 9, 35), berlin(10, 9, 50)),
    ],
)
def test_the_warning_comes_at_75_percent_of_the_allowed_business_time(score, now, warn_at, due_at, campaign, marketer):
    handoff = bare_handoff(LeadFactory(campaign=campaign, score=score), marketer)

    deadline = deadline_set(handoff=handoff, kind=K.CLAIM, now=now)

    assert (deadline.warn_at, deadline.due_at) == (warn_at, due_at)
    assert business_time_between(now, deadline.warn_at, default_spec()) == deadline.allowed * 3 / 4


# --- Pause and resume -------------------------------------------------------------------------


@pytest.fixture
def contact_clock(campaign, marketer, rep) -> Deadline:
    """A warm first-contact clock set Thursday 6 March 14:00: 8 business hours, due Friday 14:00,
    warning Friday 12:00."""
    handoff = bare_handoff(LeadFactory(campaign=campaign, score=60), marketer)
    deadline = deadline_set(handoff=handoff, kind=K.FIRST_CONTACT, now=berlin(6, 14), owner=rep)
    assert (deadline.due_at, deadline.warn_at) == (berlin(7, 14), berlin(7, 12))
    return deadline


def test_resuming_moves_the_due_time_by_exactly_the_business_time_on_hold(contact_clock):
    """Given a clock due Friday 14:00, when the lead is on hold from Friday 11:00 over the weekend until
    Monday 10:30 (6 h of Friday and 1.5 h of Monday open), then the due and warning times move by 7.5
    business hours: the 3 h left are counted from the resume (Monday 13:30), the warning likewise."""
    [paused] = deadlines_pause(handoff=contact_clock.handoff, now=berlin(7, 11))
    assert paused.pk == contact_clock.pk
    contact_clock.refresh_from_db()
    assert contact_clock.paused_at == berlin(7, 11)

    [resumed] = deadlines_resume(handoff=contact_clock.handoff, now=berlin(10, 10, 30))

    held = datetime.timedelta(hours=7, minutes=30)
    assert (resumed.held, resumed.due_before) == (held, berlin(7, 14))
    contact_clock.refresh_from_db()
    assert contact_clock.due_at == berlin(10, 13, 30)
    assert contact_clock.warn_at == berlin(10, 11, 30)
    assert business_time_between(berlin(7, 14), contact_clock.due_at, default_spec()) == held
    assert (contact_clock.paused_at, contact_clock.paused_for) == (None, held)
    assert contact_clock.given_due_at == berlin(7, 14)


def test_a_hold_outside_business_hours_moves_nothing(contact_clock):
    """On hold from Thursday 17:30 to Friday 08:30: no open time passed, so nothing moves."""
    deadlines_pause(handoff=contact_clock.handoff, now=berlin(6, 17, 30))

    [resumed] = deadlines_resume(handoff=contact_clock.handoff, now=berlin(7, 8, 30))

    assert resumed.held == datetime.timedelta(0)
    contact_clock.refresh_from_db()
    assert (contact_clock.due_at, contact_clock.warn_at, contact_clock.paused_for) == (
        berlin(7, 14),
        berlin(7, 12),
        datetime.timedelta(0),
    )


def test_holds_add_up_and_a_given_warning_stays_where_it_was(contact_clock):
    """Two holds of 1 h each move the due time by 2 h in all; once the warning was given, its time is
    history and stays."""
    handoff = contact_clock.handoff
    deadlines_pause(handoff=handoff, now=berlin(7, 9))
    deadlines_resume(handoff=handoff, now=berlin(7, 10))
    Deadline.objects.filter(pk=contact_clock.pk).update(warned_at=berlin(7, 13))
    deadlines_pause(handoff=handoff, now=berlin(7, 14, 30))
    deadlines_resume(handoff=handoff, now=berlin(7, 15, 30))

    contact_clock.refresh_from_db()
    assert contact_clock.paused_for == 2 * HOUR
    assert contact_clock.due_at == berlin(7, 16)
    assert contact_clock.warn_at == berlin(7, 13)


def test_only_clocks_still_on_time_are_paused(contact_clock, campaign, marketer):
    """A clock past its due time (breach not yet recorded), a breached one, a met one and one already
    paused are left as they are; pausing twice pauses once."""
    handoff = contact_clock.handoff
    assert deadlines_pause(handoff=handoff, now=berlin(7, 14, 1)) == []  # already late

    breached = deadline_set(
        handoff=bare_handoff(LeadFactory(campaign=campaign), marketer), kind=K.CLAIM, now=berlin(3, 9)
    )
    Deadline.objects.filter(pk=breached.pk).update(breached_at=berlin(3, 13))
    assert deadlines_pause(handoff=breached.handoff, now=berlin(3, 12)) == []

    assert len(deadlines_pause(handoff=handoff, now=berlin(7, 10))) == 1
    assert deadlines_pause(handoff=handoff, now=berlin(7, 11)) == []
    contact_clock.refresh_from_db()
    assert contact_clock.paused_at == berlin(7, 10)


def test_a_paused_clock_is_never_swept(contact_clock):
    """Past its (old) due time while paused, the deadline is neither due nor due for a warning (the
    sweep's two queries), and the sweep breaches nothing; resumed, it is due again at its moved time."""
    handoff = contact_clock.handoff
    deadlines_pause(handoff=handoff, now=berlin(7, 11))
    later = berlin(10, 9)

    assert not Deadline.objects.due(later).filter(pk=contact_clock.pk).exists()
    assert not Deadline.objects.warning_due(later).filter(pk=contact_clock.pk).exists()
    assert sweep_deadlines(now=later) == 0

    deadlines_resume(handoff=handoff, now=berlin(10, 10))  # held 7 h: due Monday 13:00
    assert not Deadline.objects.due(berlin(10, 12, 59)).filter(pk=contact_clock.pk).exists()
    assert Deadline.objects.due(berlin(10, 13)).filter(pk=contact_clock.pk).exists()


def test_the_team_calendar_of_the_owner_counts_the_hold(contact_clock, rep):
    """The hold is counted in the owner's calendar: with an extra Saturday shift in the team calendar
    the weekend hold takes longer."""
    calendar = BusinessCalendar.objects.create(name="Weekend shift", time_zone="Europe/Berlin")
    calendar.opening_hours.create(weekday=5, opens=datetime.time(10), closes=datetime.time(12))
    for weekday in range(5):
        calendar.opening_hours.create(weekday=weekday, opens=datetime.time(9), closes=datetime.time(17))
    team = SalesTeam.objects.create(name="Weekenders", calendar=calendar)
    profile, _ = RepProfile.objects.get_or_create(user=rep)
    profile.team = team
    profile.save()

    deadlines_pause(handoff=contact_clock.handoff, now=berlin(7, 11))
    [resumed] = deadlines_resume(handoff=contact_clock.handoff, now=berlin(10, 10, 30))

    assert resumed.held == datetime.timedelta(hours=9, minutes=30)  # 6 h Friday, 2 h Saturday, 1.5 h Monday


@pytest.mark.django_db
def test_a_calendar_spec_is_read_in_one_query_and_equals_the_calendar(rep, other_rep, django_assert_num_queries):
    """The clocks read an owner's calendar in one query (hours and holidays as arrays): the same spec
    as the calendar with its prefetched hours — the team's, with a lunch break, a Saturday and added
    holidays, for its rep; the default one for a rep without a team and for nobody."""
    calendar = BusinessCalendar.objects.create(name="Split shift", time_zone="America/New_York", country="US")
    for weekday in range(5):
        calendar.opening_hours.create(weekday=weekday, opens=datetime.time(13), closes=datetime.time(17))
        calendar.opening_hours.create(weekday=weekday, opens=datetime.time(8, 30), closes=datetime.time(12))
    calendar.opening_hours.create(weekday=5, opens=datetime.time(10), closes=datetime.time(12, 15))
    calendar.holidays.create(date=datetime.date(2026, 12, 24))
    calendar.holidays.create(date=datetime.date(2026, 12, 31))
    team = SalesTeam.objects.create(name="East coast", calendar=calendar)
    RepProfile.objects.update_or_create(user=rep, defaults={"team": team})

    default = BusinessCalendar.objects.with_hours().get(is_default=True)
    for owner, expected in ((rep, calendar), (other_rep, default), (None, default)):
        with django_assert_num_queries(1):
            spec = BusinessCalendar.objects.spec_for(owner)
        assert spec == BusinessCalendar.objects.with_hours().get(pk=expected.pk).spec()
    assert BusinessCalendar.objects.spec_for(rep).weekly[0] == (
        (datetime.time(8, 30), datetime.time(12)),
        (datetime.time(13), datetime.time(17)),
    )
    assert BusinessCalendar.objects.spec_for(rep).holidays == {datetime.date(2026, 12, 24), datetime.date(2026, 12, 31)}


# --- Pause and resume through the lead services -----------------------------------------------


def test_hold_and_resume_pause_the_clock_and_write_the_timeline(campaign, marketer, rep):
    """A claimed lead put on hold pauses its first-contact clock (CLOCK_PAUSED on the timeline); taken
    off hold, the clock runs again with its due time moved by the business time on hold (CLOCK_RESUMED
    with the deadline, the time held and both due times)."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    contact = Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT)

    services.lead_hold(lead=lead, actor=rep, reason="Customer on holiday")

    hold = lead.events.get(kind=LeadEvent.Kind.ON_HOLD)
    paused_event = lead.events.get(kind=LeadEvent.Kind.CLOCK_PAUSED)
    contact.refresh_from_db()
    assert contact.paused_at == hold.created_at == paused_event.created_at
    assert paused_event.actor == rep
    assert paused_event.note.startswith("SLA clock paused: first contact was due ")
    assert moment_text(contact.due_at) in paused_event.note
    assert paused_event.data["deadlines"][0]["id"] == contact.pk

    # A week on hold, whatever the time of day the test runs.
    week_ago = contact.paused_at - datetime.timedelta(days=7)
    Deadline.objects.filter(pk=contact.pk).update(paused_at=week_ago)
    services.lead_resume(lead=lead, actor=rep)

    lead.refresh_from_db()
    assert lead.status == S.CLAIMED
    resumed_event = lead.events.get(kind=LeadEvent.Kind.CLOCK_RESUMED)
    spec = default_spec()
    held = business_time_between(week_ago, resumed_event.created_at, spec)
    assert held > datetime.timedelta(0)
    moved = Deadline.objects.get(pk=contact.pk)
    assert moved.due_at == add_business_time(contact.due_at, held, spec)
    assert (moved.paused_at, moved.paused_for) == (None, held)
    [data] = resumed_event.data["deadlines"]
    assert data == {
        "id": contact.pk,
        "kind": K.FIRST_CONTACT,
        "held_seconds": round(held.total_seconds()),
        "due_before": contact.due_at.isoformat(),
        "due_at": moved.due_at.isoformat(),
    }
    assert "of business time on hold, first contact now due" in resumed_event.note
    assert moment_text(moved.due_at) in resumed_event.note


def test_no_clock_no_clock_events(campaign, marketer, rep):
    """A contacted lead has no running sales clock: holding and resuming it writes no clock events."""
    lead = advance(LeadFactory(campaign=campaign), S.CONTACTED, marketer=marketer, rep=rep)

    services.lead_hold(lead=lead, actor=rep, reason="Waiting on the customer")
    services.lead_resume(lead=lead, actor=rep)

    kinds = set(lead.events.values_list("kind", flat=True))
    assert {LeadEvent.Kind.ON_HOLD, LeadEvent.Kind.RESUMED} <= kinds
    assert not kinds & {LeadEvent.Kind.CLOCK_PAUSED, LeadEvent.Kind.CLOCK_RESUMED}


@pytest.mark.parametrize("leaves_by", [S.RETURNED, S.DISQUALIFIED])
def test_a_paused_clock_is_cancelled_when_the_lead_leaves_sales_from_hold(leaves_by, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), S.ON_HOLD, marketer=marketer, rep=rep)
    assert Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT).paused_at is not None

    if leaves_by == S.RETURNED:
        services.lead_return(lead=lead, actor=rep, reason="Wrong department")
    else:
        services.lead_disqualify(lead=lead, actor=rep, reason="Went bankrupt")

    contact = Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT)
    assert contact.cancelled_at is not None and contact.met_at is None
    assert not Deadline.objects.running().filter(lead=lead, kind__in=Deadline.SALES_KINDS).exists()


def test_a_paused_clock_is_not_overdue_in_my_leads_nor_on_the_dashboard(client, campaign, marketer, rep, manager):
    """Long after its due time, a lead on hold is not overdue for its rep nor late for the managers;
    a lead whose clock kept ticking is."""
    held = advance(LeadFactory(campaign=campaign, full_name="Held"), S.ON_HOLD, marketer=marketer, rep=rep)
    ticking = advance(LeadFactory(campaign=campaign, full_name="Ticking"), S.CLAIMED, marketer=marketer, rep=rep)
    later = timezone.now() + datetime.timedelta(days=30)

    groups = {group.key: group for group in rep_worklist(rep, now=later)}
    assert [lead.full_name for lead in groups["on_hold"].leads] == ["Held"]
    assert [lead.full_name for lead in groups["overdue"].leads] == ["Ticking"]
    assert groups["on_hold"].leads[0].contact_paused_at is not None

    filters = Filters(
        period=Period.of("custom", now=later, first_day=timezone.localdate(), last_day=timezone.localdate(later))
    )
    attention = attention_now(filters=filters, now=later)
    assert attention.overdue_counts["sales"] == {"recorded": 0, "unrecorded": 1}
    assert [deadline.lead for deadline in attention.overdue] == [ticking]
    dashboard = sla_dashboard(filters=filters, now=later)
    assert (dashboard.first_contacts.on_time, dashboard.first_contacts.late) == (0, 1)
    [rep_row] = [row for row in dashboard.reps if row.user == rep]
    assert rep_row.first_contacts.late == 1
    assert held.status == S.ON_HOLD


# --- The returned-lead follow-up --------------------------------------------------------------


def test_a_returned_lead_gets_a_follow_up_for_the_campaigns_owner(campaign, marketer, rep):
    """Sales returns the lead: the sales clocks stop, and marketing's follow-up starts on the closed
    pass, owned by the campaign's owner, due by the close of the 5th business day after the return."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)

    services.lead_return(lead=lead, actor=rep, reason="No budget")

    returned = lead.events.get(kind=LeadEvent.Kind.RETURNED)
    follow_up = Deadline.objects.get(lead=lead, kind=K.FOLLOW_UP)
    assert follow_up.is_running and follow_up.owner == campaign.owner == marketer
    assert follow_up.handoff.outcome == Handoff.Outcome.RETURNED and follow_up.handoff.closed_at is not None
    assert follow_up.starts_at == returned.created_at
    assert follow_up.due_at == add_business_days(returned.created_at, 5, default_spec())
    assert follow_up.priority == ""
    assert Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT).cancelled_at == returned.created_at


def test_the_follow_up_is_due_at_the_close_of_the_fifth_open_day_after_the_return(campaign, marketer):
    """Returned on Wednesday 5 March at 10:00: Thursday, Friday, Monday, Tuesday and Wednesday count,
    so it is due Wednesday 12 March at 17:00; warned at 75 % of the business time in between."""
    handoff = bare_handoff(LeadFactory(campaign=campaign), marketer)

    follow_up = deadline_set(handoff=handoff, kind=K.FOLLOW_UP, now=berlin(5, 10), owner=marketer)

    assert follow_up.due_at == berlin(12, 17)
    assert follow_up.allowed == datetime.timedelta(days=5)
    # 7 h Wednesday + 5 × 8 h = 47 h of business time; warned after 35 h 15 min.
    assert business_time_between(berlin(5, 10), follow_up.warn_at, default_spec()) == datetime.timedelta(
        hours=35, minutes=15
    )


@pytest.mark.parametrize("act", ["renurture", "disqualify", "merge"])
def test_marketing_acting_on_a_returned_lead_meets_its_follow_up(act, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), S.RETURNED, marketer=marketer, rep=rep)

    match act:
        case "renurture":
            services.lead_renurture(lead=lead, actor=marketer)
        case "disqualify":
            services.lead_disqualify(lead=lead, actor=marketer, reason="Competitor")
        case "merge":
            lead_merge(duplicate=lead, into=LeadFactory(campaign=campaign), actor=marketer)

    follow_up = Deadline.objects.get(lead=lead, kind=K.FOLLOW_UP)
    acted = lead.events.order_by("-created_at", "-id").first()
    assert follow_up.met_at == acted.created_at
    assert follow_up.cancelled_at is None


def test_a_lead_returned_twice_gets_one_follow_up_per_return(campaign, marketer, rep, other_rep):
    lead = advance(LeadFactory(campaign=campaign), S.RETURNED, marketer=marketer, rep=rep)
    services.lead_renurture(lead=lead, actor=marketer)
    advance(lead, S.RETURNED, marketer=marketer, rep=other_rep)

    follow_ups = list(Deadline.objects.filter(lead=lead, kind=K.FOLLOW_UP).order_by("starts_at"))
    assert len(follow_ups) == 2
    assert follow_ups[0].handoff != follow_ups[1].handoff
    assert follow_ups[0].met_at is not None
    assert follow_ups[1].is_running


def test_only_a_return_starts_a_follow_up(campaign, marketer, rep):
    """Disqualified by its rep, converted, or disqualified by marketing before the handoff: no follow-up."""
    advance(LeadFactory(campaign=campaign), S.DISQUALIFIED, marketer=marketer, rep=rep)
    on_sales_side = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    services.lead_disqualify(lead=on_sales_side, actor=rep, reason="Not a real company")
    advance(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=rep)

    assert not Deadline.objects.filter(kind=K.FOLLOW_UP).exists()


def test_the_lead_page_shows_the_follow_up_and_its_owner(client, campaign, marketer, rep):
    marketer.first_name, marketer.last_name = "Mara", "Marketer"
    marketer.save()
    lead = advance(LeadFactory(campaign=campaign), S.RETURNED, marketer=marketer, rep=rep)
    client.force_login(marketer)

    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert "Returned-lead follow-up" in page
    assert "(Mara Marketer)" in page


def test_the_returned_inbox_shows_when_to_act_by(client, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), S.RETURNED, marketer=marketer, rep=rep)
    follow_up = Deadline.objects.get(lead=lead, kind=K.FOLLOW_UP)
    client.force_login(marketer)

    response = client.get(reverse("campaigns:returned"))

    page = response.content.decode()
    assert f"{timezone.localtime(follow_up.due_at):%a %-d %b %H:%M}" in page
    assert "left</span>" in page
