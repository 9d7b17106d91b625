"""My leads: a rep's open leads grouped by what needs doing, with counts, in the user's time zone."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.localtime import local_midnight
from conftest import CampaignFactory, LeadFactory, advance
from leads import services
from leads.activities import activity_log
from leads.models import Activity, Lead, RepProfile
from leads.queries import WORK_GROUPS, rep_worklist
from sla.models import Deadline

pytestmark = pytest.mark.django_db
S = Lead.Status
NOTHING = {key: 0 for key, *_ in WORK_GROUPS}


def lead_in(status, *, campaign, marketer, rep, **fields) -> Lead:
    return advance(LeadFactory(campaign=campaign, **fields), status, marketer=marketer, rep=rep)


def grouped(rep, now) -> dict[str, list[str]]:
    return {group.key: [lead.full_name for lead in group.leads] for group in rep_worklist(rep, now=now)}


def counts(rep, now) -> dict[str, int]:
    return {group.key: group.count for group in rep_worklist(rep, now=now)}


def make_contact_deadline_late(lead) -> None:
    past = timezone.now() - datetime.timedelta(hours=1)
    Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).update(
        starts_at=past - datetime.timedelta(hours=24), due_at=past
    )


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A wall-clock time on `day` in the current time zone."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def a_few_days_ahead() -> datetime.date:
    """A day far enough ahead that next steps set on it are still to come when logged."""
    return timezone.localdate() + datetime.timedelta(days=3)


def test_claimed_leads_are_new_until_something_is_logged_then_need_first_contact(campaign, marketer, rep):
    """Given claimed leads, one untouched, one with a note, one past its first-contact deadline, then they
    are new, need first contact and overdue respectively; a contacted lead with nothing planned has no
    next step."""
    lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep, full_name="Untouched")
    noted = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep, full_name="Noted")
    activity_log(lead=noted, rep=rep, kind=Activity.Kind.NOTE, note="Their CTO is on holiday")
    late = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep, full_name="Late")
    activity_log(lead=late, rep=rep, kind=Activity.Kind.NOTE, note="Tried to find a number")
    make_contact_deadline_late(late)
    lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep, full_name="Contacted")

    groups = grouped(rep, timezone.now())

    assert groups == {
        "on_hold": [],
        "overdue": ["Late"],
        "overdue_next_step": [],
        "new": ["Untouched"],
        "first_contact": ["Noted"],
        "today": [],
        "no_next_step": ["Contacted"],
        "later": [],
    }
    assert counts(rep, timezone.now()) == {**NOTHING, "overdue": 1, "new": 1, "first_contact": 1, "no_next_step": 1}


def test_next_steps_sort_leads_into_today_overdue_and_later_at_the_local_day_boundaries(
    campaign, marketer, rep, a_few_days_ahead
):
    """Given contacted leads whose latest next step falls just before, on, or just after the day seen
    from noon of that day, then the day boundaries are midnight in the current time zone."""
    day = a_few_days_ahead
    steps = {
        "Yesterday late": at(day - datetime.timedelta(days=1), 23, 59),
        "This morning": at(day, 0, 0),
        "Tonight": at(day, 23, 59),
        "Tomorrow early": at(day + datetime.timedelta(days=1), 0, 0),
    }
    for name, next_step in steps.items():
        lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep, full_name=name)
        activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=next_step)

    groups = grouped(rep, at(day, 12))

    assert groups["overdue_next_step"] == ["Yesterday late"]
    assert groups["overdue"] == []
    assert groups["today"] == ["This morning", "Tonight"]
    assert groups["later"] == ["Tomorrow early"]


def test_the_same_next_step_is_today_in_one_time_zone_and_tomorrow_in_another(
    campaign, marketer, rep, a_few_days_ahead
):
    """A next step at 23:30 in New York is 05:30 the next morning in Berlin: due today for a New York user
    at noon, not yet for a Berlin user at the same instant."""
    new_york = ZoneInfo("America/New_York")
    next_step = datetime.datetime.combine(a_few_days_ahead, datetime.time(23, 30), tzinfo=new_york)
    seen_at = datetime.datetime.combine(a_few_days_ahead, datetime.time(12, 0), tzinfo=new_york)
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=next_step)

    with timezone.override(new_york):
        assert counts(rep, seen_at)["today"] == 1
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert counts(rep, seen_at)["today"] == 0
        assert counts(rep, seen_at)["later"] == 1


def test_only_the_latest_activitys_next_step_counts(campaign, marketer, rep, a_few_days_ahead):
    """A follow-up done (a later activity with no next step) is no longer due."""
    day = a_few_days_ahead
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=at(day, 10))
    assert counts(rep, at(day, 12))["today"] == 1

    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, outcome="Followed up")

    assert counts(rep, at(day, 12)) == {**NOTHING, "no_next_step": 1}


def test_a_lead_on_hold_waits_in_its_own_group_whatever_else_is_late(client, campaign, marketer, rep):
    """Precedence: on hold comes first, so a held lead past its first-contact deadline is shown on hold,
    with its reason, on the page."""
    lead = lead_in(S.ON_HOLD, campaign=campaign, marketer=marketer, rep=rep, full_name="Held Lead")
    make_contact_deadline_late(lead)

    assert grouped(rep, timezone.now())["on_hold"] == ["Held Lead"]
    client.force_login(rep)
    response = client.get(reverse("leads:mine"))
    [on_hold] = [group for group in response.context["groups"] if group.key == "on_hold"]
    assert [lead.full_name for lead in on_hold.leads] == ["Held Lead"]
    html = response.content.decode()
    assert "Waiting on the customer" in html
    assert 'id="group-on_hold"' in html


def test_activities_from_an_earlier_pass_do_not_count(campaign, marketer, rep, other_rep, a_few_days_ahead):
    """A lead returned to marketing and handed off again starts over: the old rep's next step is
    history, so for its new rep the lead is new."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=at(a_few_days_ahead, 9))
    services.lead_return(lead=lead, actor=rep, reason="Not ready to buy")
    services.lead_renurture(lead=lead, actor=marketer)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    services.lead_claim(lead=lead, rep=other_rep)

    assert grouped(other_rep, timezone.now())["new"] == [lead.full_name]


def test_my_leads_shows_only_the_reps_own_open_leads(client, campaign, marketer, rep, other_rep):
    lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep, full_name="Mine")
    lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=other_rep, full_name="Theirs")
    lead_in(S.CONVERTED, campaign=campaign, marketer=marketer, rep=rep, full_name="Won already")
    client.force_login(rep)

    response = client.get(reverse("leads:mine"))

    html = response.content.decode()
    assert "Mine" in html
    assert "Theirs" not in html
    assert "Won already" not in html
    assert response.context["total"] == 1


def test_the_page_shows_each_groups_count(client, campaign, marketer, rep):
    for _ in range(2):
        lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    lead_in(S.ON_HOLD, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)

    html = client.get(reverse("leads:mine")).content.decode()

    assert 'data-count="new">2<' in html
    assert 'data-count="on_hold">1<' in html
    assert 'data-count="overdue">0<' in html
    assert "3 open" in html


def test_an_empty_day_points_to_the_queue(client, rep):
    client.force_login(rep)

    html = client.get(reverse("leads:mine")).content.decode()

    assert "No open leads" in html
    assert reverse("leads:queue") in html


def test_the_worklist_refuses_a_naive_now(rep):
    with pytest.raises(ValueError, match="timezone-aware"):
        rep_worklist(rep, now=datetime.datetime(2030, 1, 1, 12))


def test_my_leads_takes_the_same_number_of_queries_for_one_lead_or_many(
    client, campaign, marketer, rep, django_assert_num_queries
):
    """The page's query count does not grow with the leads: two for the worklist whatever the groups."""
    first = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)
    with CaptureQueriesContext(connection) as one_lead:
        assert client.get(reverse("leads:mine")).status_code == 200

    activity_log(lead=first, rep=rep, kind=Activity.Kind.NOTE, note="Looked them up")
    for status in (S.CLAIMED, S.CONTACTED, S.ON_HOLD, S.CLAIMED, S.CONTACTED):
        lead = lead_in(status, campaign=CampaignFactory(owner=marketer), marketer=marketer, rep=rep)
        if status == S.CONTACTED:
            activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=timezone.now())
    with CaptureQueriesContext(connection) as many_leads:
        response = client.get(reverse("leads:mine"))

    assert response.context["total"] == 6
    assert len({group.key for group in response.context["groups"] if group.count}) >= 4
    assert len(many_leads) == len(one_lead)
    with django_assert_num_queries(2):
        rep_worklist(rep, now=timezone.now())


@pytest.mark.django_db
def test_my_leads_shows_this_months_targets_and_the_out_of_office_switch(client, rep, manager):
    """The rep's home page carries their progress towards this month's targets, and the away switch."""
    from leads.models import MonthlyTarget

    month = timezone.localdate().replace(day=1)
    MonthlyTarget.objects.create(month=month, rep=rep, deals_won=7, revenue=70000, set_by=manager)
    client.force_login(rep)
    response = client.get(reverse("leads:mine"))
    html = response.content.decode()
    assert response.context["targets"].mine.deals.target == 7
    assert "Targets" in html and reverse("leads:my_targets") in html
    assert reverse("leads:away_toggle") in html


def test_a_big_group_shows_its_most_urgent_leads_and_offers_them_all(client, campaign, marketer, rep):
    """30 new leads: the page lists 25 with "Show all 30"; showing all lists every one, in the same order."""
    RepProfile.objects.update_or_create(user=rep, defaults={"capacity": 30})
    for _ in range(30):
        lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)

    capped = client.get(reverse("leads:mine"))
    everything = client.get(reverse("leads:mine"), {"all": "new"})

    new = {group.key: group for group in capped.context["groups"]}["new"]
    assert (new.count, len(new.leads), new.is_cut) == (30, 25, True)
    assert "Show all 30" in capped.content.decode()
    all_new = {group.key: group for group in everything.context["groups"]}["new"]
    assert len(all_new.leads) == 30 and not all_new.is_cut
    assert [lead.pk for lead in all_new.leads[:25]] == [lead.pk for lead in new.leads]


# The grouping as it was derived before the lead kept its latest next step (issue 11): from the
# activities of the open handoff's pass, one look-up per lead. The reference the test below holds
# the lead's own columns to.
GROUPS_FROM_ACTIVITIES_SQL = """
WITH mine AS (
  SELECT l.id, l.status, l.status_changed_at, contact.due_at AS contact_due_at,
         contact.paused_at AS contact_paused_at, latest.id IS NOT NULL AS has_activity, latest.next_step_at
    FROM leads_lead l
    LEFT JOIN LATERAL (
      SELECT d.due_at, d.paused_at FROM handoff_deadline d
       WHERE d.lead_id = l.id AND d.kind = 'first_contact' AND d.met_at IS NULL AND d.cancelled_at IS NULL
       LIMIT 1) contact ON true
    LEFT JOIN LATERAL (
      SELECT h.handed_off_at FROM handoff_handoff h WHERE h.lead_id = l.id AND h.closed_at IS NULL LIMIT 1
    ) pass ON true
    LEFT JOIN LATERAL (
      SELECT a.id, a.next_step_at FROM leads_activity a
       WHERE a.lead_id = l.id AND a.created_at >= pass.handed_off_at
       ORDER BY a.created_at DESC, a.id DESC LIMIT 1) latest ON true
   WHERE l.owner_id = %(rep)s AND l.status = ANY(%(statuses)s)
), grouped AS (
  SELECT *, CASE
           WHEN status = 'on_hold' THEN 'on_hold'
           WHEN contact_due_at < %(now)s AND contact_paused_at IS NULL THEN 'overdue'
           WHEN next_step_at < %(day_starts)s THEN 'overdue_next_step'
           WHEN status = 'claimed' AND NOT has_activity THEN 'new'
           WHEN status = 'claimed' THEN 'first_contact'
           WHEN next_step_at < %(next_day_starts)s THEN 'today'
           WHEN next_step_at IS NULL THEN 'no_next_step'
           ELSE 'later'
         END AS work_group
    FROM mine
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY work_group ORDER BY contact_due_at ASC NULLS LAST,
                               next_step_at ASC NULLS LAST, status_changed_at DESC, id DESC) AS position,
         count(*) OVER (PARTITION BY work_group) AS group_count
    FROM grouped
)
SELECT id, work_group, position, group_count, contact_due_at, contact_paused_at, next_step_at
  FROM ranked
 WHERE position <= %(per_group)s OR work_group = %(show_all)s
"""


def groups_from_activities(rep, now) -> dict[int, tuple[str, int, int]]:
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now, zone)
    with connection.cursor() as cursor:
        cursor.execute(
            GROUPS_FROM_ACTIVITIES_SQL,
            {
                "rep": rep.pk,
                "statuses": list(Lead.WORKED_BY_SALES),
                "now": now,
                "day_starts": local_midnight(today, zone),
                "next_day_starts": local_midnight(today + datetime.timedelta(days=1), zone),
                "per_group": 2**31 - 1,
                "show_all": "",
            },
        )
        return {pk: (group, position, count) for pk, group, position, count, *_ in cursor.fetchall()}


def test_each_lead_lands_in_the_group_its_activities_gave_it(campaign, marketer, rep, other_rep, manager):
    """Given leads in every situation My leads tells apart (claimed untouched, noted, with a next step,
    late; contacted with next steps past, today, later, none, or one cleared by a later activity; on
    hold from claimed and from contacted, resumed; reassigned with its activities; returned and
    claimed again by another rep), then at each moment from now to two weeks ahead every lead is in
    the group, at the position and with the group count that reading its activities gives."""
    RepProfile.objects.update_or_create(user=rep, defaults={"capacity": 100})
    RepProfile.objects.update_or_create(user=other_rep, defaults={"capacity": 100})
    # A next step later today: two hours ahead, or halfway to the local midnight when that comes
    # sooner (run at 22:05 in Berlin, two hours ahead was tomorrow and "today" stayed empty).
    now = timezone.now()
    midnight = local_midnight(timezone.localdate(now) + datetime.timedelta(days=1), timezone.get_default_timezone())
    soon = now + min(datetime.timedelta(hours=2), (midnight - now) / 2)
    steps = [None, soon, soon + datetime.timedelta(days=1), soon + datetime.timedelta(days=5)]

    def claimed(**fields):
        return lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep, **fields)

    def contacted():
        return lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)

    claimed()
    make_contact_deadline_late(claimed())
    for step in steps:
        activity_log(lead=claimed(), rep=rep, kind=Activity.Kind.NOTE, note="Looked them up", next_step_at=step)
        activity_log(lead=contacted(), rep=rep, kind=Activity.Kind.CALL, next_step_at=step)
        cleared = contacted()
        activity_log(lead=cleared, rep=rep, kind=Activity.Kind.CALL, next_step_at=step)
        activity_log(lead=cleared, rep=rep, kind=Activity.Kind.EMAIL, next_step_at=steps[3] if step is None else None)
    contacted()
    for lead in (claimed(), contacted()):
        activity_log(lead=lead, rep=rep, kind=Activity.Kind.NOTE, note="Budget in spring", next_step_at=steps[1])
        services.lead_hold(lead=lead, actor=rep, reason="Waiting on the customer")
    resumed = contacted()
    activity_log(lead=resumed, rep=rep, kind=Activity.Kind.CALL, next_step_at=steps[2])
    services.lead_hold(lead=resumed, actor=rep, reason="Away a week")
    services.lead_resume(lead=resumed, actor=rep)
    for status in (S.CLAIMED, S.CONTACTED):
        moved = lead_in(status, campaign=campaign, marketer=marketer, rep=other_rep)
        activity_log(lead=moved, rep=other_rep, kind=Activity.Kind.NOTE, note="Handing over", next_step_at=steps[2])
        services.lead_assign(lead=moved, rep=rep, actor=manager)
    again = claimed()
    activity_log(lead=again, rep=rep, kind=Activity.Kind.CALL, next_step_at=steps[3])
    services.lead_return(lead=again, actor=rep, reason="Not ready to buy")
    services.lead_renurture(lead=again, actor=marketer)
    services.lead_qualify(lead=again, actor=marketer)
    services.lead_hand_off(lead=again, actor=marketer)
    services.lead_assign(lead=again, rep=rep, actor=manager)

    for days in (0, 1, 2, 6, 14):
        now = timezone.now() + datetime.timedelta(days=days)
        expected = groups_from_activities(rep, now)
        worklist = rep_worklist(rep, now=now)
        got = {
            lead.pk: (group.key, position, group.count)
            for group in worklist
            for position, lead in enumerate(group.leads, start=1)
        }
        assert got == expected, f"{days} days ahead"
        assert {group for group, *_ in expected.values()} >= (
            {"overdue", "no_next_step"} if days else {"new", "today", "no_next_step", "later"}
        )
        if days >= 2:
            assert "overdue_next_step" in {group for group, *_ in expected.values()}
