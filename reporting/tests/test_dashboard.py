"""The managers' SLA dashboard, checked against a history whose every figure was worked out by hand.

The history runs in the default calendar (Europe/Berlin, Mon–Fri 09–17, German public holidays) from
Friday 20 March to Sunday 12 April 2026: across weekends, the switch to summer time (Sunday 29 March),
Good Friday (3 April) and Easter Monday (6 April), with a lead on hold (a paused clock) and a lead
reassigned after its first contact fell due. All leads score 60: warm, so 4 business hours to claim
and 8 to make first contact; a returned lead gives marketing 5 business days.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import CampaignFactory, LeadFactory, UserFactory
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import RepProfile, SalesTeam
from people.roles import Role
from reporting.dashboard import (
    Filters,
    Percentile,
    Period,
    acceptance_handoffs,
    attention_now,
    decided_deadlines,
    drill,
    rate,
    sla_dashboard,
)
from sla.models import Deadline, Escalation

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
K = Deadline.Kind


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


# Monday 13 April 2026, 08:00 in Berlin: the morning after the period.
NOW = at(4, 13, 8)
HOURS = 3600


@contextmanager
def clock_at(monkeypatch, moment: datetime.datetime):
    """The services stamp events and clocks with `timezone.now()`; stop it at `moment` meanwhile."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def period(first=datetime.date(2026, 3, 23), last=datetime.date(2026, 4, 12), **filters) -> Filters:
    return Filters(period=Period.of("custom", now=NOW, first_day=first, last_day=last), **filters)


@pytest.fixture
def history(monkeypatch, marketer, rep, other_rep, manager):
    """rep (team North) and other_rep (team South) work one campaign's leads A–H; see each step."""
    north, south = SalesTeam.objects.create(name="North"), SalesTeam.objects.create(name="South")
    RepProfile.objects.create(user=rep, team=north)
    RepProfile.objects.create(user=other_rep, team=south)
    campaign = CampaignFactory(
        owner=marketer, name="Spring fair", target_mqls_per_month=10, actual_spend=Decimal("500")
    )
    leads = {}

    def step(moment, action):
        with clock_at(monkeypatch, moment):
            action()

    def hand_off(name, moment):
        lead = leads[name] = LeadFactory(campaign=campaign, full_name=name, score=60)
        step(moment, lambda: services.lead_qualify(lead=lead, actor=marketer))
        step(moment, lambda: services.lead_hand_off(lead=lead, actor=marketer))

    def claim(name, who, moment):
        step(moment, lambda: services.lead_claim(lead=leads[name], rep=who))

    def contact(name, who, moment):
        step(moment, lambda: services.lead_log_first_contact(lead=leads[name], actor=who))

    # H, before the period: handed off, claimed and contacted on Friday 20 March. Counts nowhere.
    hand_off("H", at(3, 20, 9))
    claim("H", rep, at(3, 20, 9, 30))
    contact("H", rep, at(3, 20, 10))
    # G: claimed after 20 min (1,200 s), contacted 40 min later (2,400 s), returned "Not ready to buy"
    # (neutral) at 11:00; marketing re-nurtures it on Wednesday 10:00: a follow-up met on time after
    # 6 + 8 + 1 = 15 business hours.
    hand_off("G", at(3, 23, 9))
    claim("G", other_rep, at(3, 23, 9, 20))
    contact("G", other_rep, at(3, 23, 10))
    step(at(3, 23, 11), lambda: services.lead_return(lead=leads["G"], actor=other_rep, reason="Not ready to buy"))
    step(at(3, 25, 10), lambda: services.lead_renurture(lead=leads["G"], actor=marketer))
    # A, over a weekend and the switch to summer time: handed off Friday 15:00 CET, claim due Monday
    # 11:00 CEST (2 h Friday + 2 h Monday), claimed Monday 10:00: on time after 3 business hours. First
    # contact due Tuesday 10:00, made Tuesday 09:30: 7 h 30 min. Converted and won for 1,000 on 1 April.
    hand_off("A", at(3, 27, 15))
    claim("A", rep, at(3, 30, 10))
    contact("A", rep, at(3, 31, 9, 30))
    step(at(4, 1, 12), lambda: services.lead_convert(lead=leads["A"], actor=rep, value=Decimal("1000"), stage="won"))
    # C, reassigned after its first contact fell due: claimed Monday 09:30 (30 min), first contact due
    # Tuesday 09:30; the manager gives the lead to other_rep at 09:37, who calls at 10:00. The miss
    # stays rep's: 8 h 30 min of business time, late, never recorded by a sweep.
    hand_off("C", at(3, 30, 9))
    claim("C", rep, at(3, 30, 9, 30))
    step(at(3, 31, 9, 37), lambda: services.lead_assign(lead=leads["C"], rep=other_rep, actor=manager))
    contact("C", other_rep, at(3, 31, 10))
    # D: claimed after 10 min, returned for "Bad contact data" (marketing's) at 10:00, which cancels its
    # first contact. Marketing's follow-up is due by the close of the 5th business day, skipping Good
    # Friday and Easter Monday: Friday 10 April 17:00. Nobody follows up: late, unrecorded.
    hand_off("D", at(4, 1, 9))
    claim("D", other_rep, at(4, 1, 9, 10))
    step(at(4, 1, 10), lambda: services.lead_return(lead=leads["D"], actor=other_rep, reason="Bad contact data"))
    # B, over Easter: handed off Thursday 2 April 14:00, claim due Tuesday 7 April 10:00 (3 h + 1 h),
    # claimed at 11:00: late by an hour, 5 business hours, no sweep ran. First contact due Wednesday
    # 11:00; on hold from Tuesday 15:00 to Thursday 10:00 (11 business hours) moves it to Thursday 14:00;
    # contacted Thursday 13:00: on time, 4 + 3 = 7 business hours.
    hand_off("B", at(4, 2, 14))
    claim("B", rep, at(4, 7, 11))
    step(at(4, 7, 15), lambda: services.lead_hold(lead=leads["B"], actor=rep, reason="On holiday"))
    step(at(4, 9, 10), lambda: services.lead_resume(lead=leads["B"], actor=rep))
    contact("B", rep, at(4, 9, 13))
    # E: handed off Wednesday 8 April 09:00, claim due 13:00, never claimed; the sweep records the breach
    # at 13:05 and one escalation step is done.
    hand_off("E", at(4, 8, 9))
    step(at(4, 8, 13, 5), lambda: sweep_deadlines(now=at(4, 8, 13, 5)))
    first_step = Escalation.objects.filter(lead=leads["E"]).order_by("position").first()
    Escalation.objects.filter(pk=first_step.pk).update(done_at=at(4, 8, 13, 6))
    # F: handed off on Sunday evening; its claim clock starts Monday 09:00: still inside its window.
    hand_off("F", at(4, 12, 20))
    return {"leads": leads, "campaign": campaign, "north": north, "south": south}


def test_the_clocks_of_the_history_are_what_was_worked_out_by_hand(history):
    """The calendar math the figures rest on: due times and business time taken, across DST and Easter."""
    leads = history["leads"]

    def clock(name, kind):
        return Deadline.objects.get(lead=leads[name], kind=kind)

    assert clock("A", K.CLAIM).due_at == at(3, 30, 11)
    assert clock("A", K.CLAIM).business_seconds == 3 * HOURS
    assert clock("A", K.FIRST_CONTACT).business_seconds == 7.5 * HOURS
    assert clock("B", K.CLAIM).due_at == at(4, 7, 10)
    assert clock("B", K.FIRST_CONTACT).due_at == at(4, 9, 14)
    assert clock("B", K.FIRST_CONTACT).business_seconds == 7 * HOURS
    assert clock("C", K.FIRST_CONTACT).owner.username == "rep"
    assert clock("C", K.FIRST_CONTACT).business_seconds == 8.5 * HOURS
    assert clock("D", K.FOLLOW_UP).due_at == at(4, 10, 17)
    assert clock("G", K.FOLLOW_UP).business_seconds == 15 * HOURS


def test_sales_figures_of_the_period(history):
    d = sla_dashboard(filters=period(), now=NOW)

    # Claims decided in the period: G, A, C, D on time; B late (unrecorded), E late (recorded).
    assert (d.claims.on_time, d.claims.late, d.claims.recorded, d.claims.unrecorded) == (4, 2, 1, 1)
    assert d.claims.attainment == 66.7
    # Claimed after 600, 1,200, 1,800, 10,800 and 18,000 business seconds.
    assert d.claims.median_seconds == 1800
    assert d.claims.p90_seconds == pytest.approx(10800 + 0.6 * 7200)
    # First contacts: G, A, B on time; C late (unrecorded); D's was cancelled before it fell due.
    assert (d.first_contacts.on_time, d.first_contacts.late, d.first_contacts.unrecorded) == (3, 1, 1)
    assert d.first_contacts.attainment == 75.0
    assert d.first_contacts.median_seconds == (25200 + 27000) / 2
    assert d.first_contacts.p90_seconds == pytest.approx(27000 + 0.7 * 3600)
    assert d.claims.escalations == 1
    assert (d.handed_off, d.converted, d.converted_value, d.won, d.won_revenue) == (7, 1, 1000, 1, 1000)


def test_escalation_steps_are_only_ever_of_breached_deadlines(history):
    """`escalation_steps` reads the period's breached deadlines alone (their own index): it relies on the
    sweep opening steps only in a breach's transaction, and on a breach never being undone."""
    assert Escalation.objects.filter(done_at__isnull=False).exists()
    assert not Escalation.objects.filter(deadline__breached_at__isnull=True).exists()


def test_marketing_figures_of_the_period(history):
    d = sla_dashboard(filters=period(), now=NOW)

    # Handed off G, A, C, D, B, E, F; F is still in its claim window, E was never claimed, D and G
    # were returned: kept 3 of 6 decided, claimed 5 of 6.
    a = d.acceptance
    assert (a.handed_off, a.in_claim_window, a.decided, a.claimed, a.returned, a.kept) == (7, 1, 6, 5, 2, 3)
    assert (a.kept_rate, a.claimed_rate) == (50.0, 83.3)
    assert d.mqls == 7
    # Follow-ups: G's met on time, D's fell due unmet.
    assert (d.follow_ups.on_time, d.follow_ups.late, d.follow_ups.attainment) == (1, 1, 50.0)
    assert d.follow_ups.median_seconds == 15 * HOURS
    (spring,) = [row for row in d.campaigns if row.campaign == history["campaign"]]
    # 21 of April's 30 days and 9 of March's 31: 10 × (9/31 + 12/30) = 6.9 → 7.
    assert (spring.mqls, spring.mql_target, spring.mql_percent) == (7, 7, 100.0)
    assert (spring.won, spring.won_revenue, spring.cost_per_won, spring.roi) == (1, 1000, 500, 100.0)
    stages = [(label, count) for label, _, count, _ in spring.stages()]
    assert stages == [
        ("Captured", 0),  # made by a factory, not captured through a door
        ("MQL", 7),
        ("Handed off", 7),
        ("Accepted", 3),  # claimed and kept, as acceptance: A, C, B (G and D were returned)
        ("Contacted", 4),  # G, A, C, B
        ("Converted", 1),
        ("Won", 1),
    ]


def test_attribution_puts_every_miss_on_one_side(history):
    d = sla_dashboard(filters=period(), now=NOW)

    misses = {(miss.side, miss.label): miss.count for miss in d.attribution}
    assert misses == {
        ("sales", "Late claims"): 2,
        ("sales", "Late first contacts"): 1,
        ("marketing", "Late returned-lead follow-ups"): 1,
        ("marketing", "Returned: Bad contact data"): 1,
        ("neutral", "Returned: Not ready to buy"): 1,
    }
    assert (d.side_total("sales"), d.side_total("marketing"), d.side_total("neutral")) == (3, 2, 1)


def test_per_rep_figures_keep_claims_apart_and_the_reassigned_miss_with_its_rep(history, rep, other_rep):
    d = sla_dashboard(filters=period(), now=NOW)

    rows = {row.user: row for row in d.reps if row.user is not None}
    mine, theirs = rows[rep], rows[other_rep]
    # B's claim came an hour late: a miss of the queue (definition 4), not of rep, who claimed it after.
    assert (mine.claims.on_time, mine.claims.late, mine.first_contacts.on_time, mine.first_contacts.late) == (
        2,
        0,
        2,
        1,
    )
    assert mine.first_contacts.attainment == 66.7
    assert (theirs.claims.on_time, theirs.claims.late, theirs.first_contacts.on_time, theirs.first_contacts.late) == (
        2,
        0,
        1,
        0,
    )
    # Claims from the queue and reassignments are counted apart.
    assert (mine.claimed, mine.reassigned_to, theirs.claimed, theirs.reassigned_to) == (3, 0, 2, 1)
    assert (mine.won, mine.won_revenue) == (1, 1000)
    # E's claim was never made, B's made late: both are the queue's, shown on a row of its own.
    (queue,) = [row for row in d.reps if row.user is None]
    assert (queue.claims.late, queue.claims.recorded, queue.escalations) == (2, 1, 1)
    teams = {group.label: group for group in d.teams}
    assert (teams["North"].missed, teams["South"].missed, teams["The queue (nobody claimed it)"].missed) == (1, 0, 2)


def test_team_and_rep_filters_narrow_sales_figures_and_leave_marketings(history, other_rep):
    south = sla_dashboard(filters=period(team=history["south"]), now=NOW)
    assert (south.claims.on_time, south.claims.late, south.first_contacts.on_time) == (2, 0, 1)
    assert [row.user for row in south.reps] == [other_rep]
    assert (south.follow_ups.late, south.acceptance.decided) == (1, 6)
    assert sla_dashboard(filters=period(rep=other_rep), now=NOW).claims.decided == 2


def test_campaign_and_channel_filters(history, marketer):
    elsewhere = CampaignFactory(owner=marketer, channel="event")
    assert sla_dashboard(filters=period(campaign=elsewhere), now=NOW).claims.decided == 0
    assert sla_dashboard(filters=period(channel="event"), now=NOW).handed_off == 0
    assert sla_dashboard(filters=period(channel="email"), now=NOW).claims.decided == 6


def test_the_period_bounds_are_local_days(history):
    """Last month, seen on 13 April, is March: G, A, C and H's claims, H's first contact included."""
    last_month = Filters(period=Period.of("last_month", now=NOW))
    assert (last_month.period.first_day, last_month.period.last_day) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 31),
    )
    d = sla_dashboard(filters=last_month, now=NOW)
    assert (d.claims.on_time, d.claims.late, d.first_contacts.on_time, d.first_contacts.late) == (4, 0, 3, 1)
    quarter = Period.of("this_quarter", now=NOW)
    assert (quarter.first_day, quarter.last_day) == (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))


def test_weekly_trends(history):
    weeks = {week.start: week for week in sla_dashboard(filters=period(), now=NOW).trends}
    assert len(weeks) == 13 and max(weeks) == datetime.date(2026, 4, 13)
    w16, w23, w30 = (weeks[datetime.date(2026, 3, day)] for day in (16, 23, 30))
    w6 = weeks[datetime.date(2026, 4, 6)]
    assert [(w.on_time, w.late) for w in (w16, w23, w30, w6)] == [(2, 0), (2, 0), (4, 1), (1, 2)]
    assert (w30.attainment, w6.attainment) == (80.0, 33.3)
    assert w30.median_claim_seconds == 1800
    assert [w.handed_off for w in (w16, w23, w30, w6)] == [1, 2, 3, 2]
    assert [w.acceptance.kept_rate for w in (w16, w23, w30, w6)] == [100.0, 50.0, 66.7, 0.0]


def test_the_live_part_shows_overdue_clocks_recorded_or_not(history):
    attention = attention_now(filters=period(), now=NOW)
    assert [d.lead.full_name for d in attention.waiting] == ["E", "F"]
    assert attention.waiting_count == 2 and attention.warned_count == 0
    assert attention.overdue_counts == {
        "sales": {"recorded": 1, "unrecorded": 0},
        "marketing": {"recorded": 0, "unrecorded": 1},
    }


def test_drill_down_lists_exactly_the_leads_behind_each_figure(history):
    d = sla_dashboard(filters=period(), now=NOW)

    def names(figure, **extra):
        return sorted(item.lead.full_name for item in drill(figure, filters=period(), now=NOW, **extra).rows)

    assert names("claims_late") == ["B", "E"] and d.claims.late == 2
    assert names("claims_unrecorded") == ["B"]
    assert names("first_contacts_late") == ["C"]
    assert names("follow_ups_late") == ["D"]
    assert names("acceptance_kept") == ["A", "B", "C"]
    assert names("acceptance_open") == ["F"]
    assert names("returns", reason="Bad contact data") == ["D"]
    assert names("won") == ["A"]
    assert names("escalations") == ["E"]


# --- Pieces --------------------------------------------------------------------------------------
def test_a_rate_below_100_never_rounds_to_100_nor_one_above_0_to_0():
    assert rate(5002, 5003) == 99.9
    assert rate(5003, 5003) == 100.0
    assert rate(1, 5003) == 0.1
    assert (rate(0, 5), rate(2, 3), rate(0, 0)) == (0.0, 66.7, None)


def test_a_reassignment_leaves_a_past_due_clock_with_its_rep_and_moves_the_others(
    monkeypatch, marketer, rep, other_rep, manager
):
    """Definition 4: the first contact fell due at 09:30; reassigned at 09:37 before any sweep, it stays
    rep's. A lead whose first contact is still ahead moves with its clock."""
    campaign = CampaignFactory(owner=marketer)
    late, early = LeadFactory(campaign=campaign, score=60), LeadFactory(campaign=campaign, score=60)
    for lead in (late, early):
        with clock_at(monkeypatch, at(3, 30, 9)):
            services.lead_qualify(lead=lead, actor=marketer)
            services.lead_hand_off(lead=lead, actor=marketer)
    with clock_at(monkeypatch, at(3, 30, 9, 30)):
        services.lead_claim(lead=late, rep=rep)
    with clock_at(monkeypatch, at(3, 31, 9)):
        services.lead_claim(lead=early, rep=rep)
    with clock_at(monkeypatch, at(3, 31, 9, 37)):
        services.lead_assign(lead=late, rep=other_rep, actor=manager)
        services.lead_assign(lead=early, rep=other_rep, actor=manager)

    assert Deadline.objects.get(lead=late, kind=K.FIRST_CONTACT).owner == rep
    assert Deadline.objects.get(lead=early, kind=K.FIRST_CONTACT).owner == other_rep
    late.refresh_from_db()
    assert late.owner == other_rep


def test_a_paused_clock_moves_with_the_lead_on_reassignment(monkeypatch, marketer, rep, other_rep, manager):
    lead = LeadFactory(campaign=CampaignFactory(owner=marketer), score=60)
    with clock_at(monkeypatch, at(3, 30, 9)):
        services.lead_qualify(lead=lead, actor=marketer)
        services.lead_hand_off(lead=lead, actor=marketer)
        services.lead_claim(lead=lead, rep=rep)
        services.lead_hold(lead=lead, actor=rep, reason="Travelling")
    with clock_at(monkeypatch, at(4, 20, 9)):
        services.lead_assign(lead=lead, rep=other_rep, actor=manager)
    assert Deadline.objects.get(lead=lead, kind=K.FIRST_CONTACT).owner == other_rep


def test_a_deadline_met_late_before_the_sweep_ran_counts_as_late(monkeypatch, marketer, rep):
    lead = LeadFactory(campaign=CampaignFactory(owner=marketer), score=60)
    with clock_at(monkeypatch, at(4, 14, 9)):
        services.lead_qualify(lead=lead, actor=marketer)
        services.lead_hand_off(lead=lead, actor=marketer)
    with clock_at(monkeypatch, at(4, 14, 14)):
        services.lead_claim(lead=lead, rep=rep)
    d = sla_dashboard(filters=Filters(period=Period.of("this_month", now=at(4, 20, 9))), now=at(4, 20, 9))
    assert (d.claims.on_time, d.claims.late, d.claims.recorded, d.claims.attainment) == (0, 1, 0, 0.0)


def test_nothing_decided_yet_shows_no_rate(manager, client):
    d = sla_dashboard(filters=Filters(period=Period.of("this_month", now=timezone.now())), now=timezone.now())
    assert (d.claims.attainment, d.acceptance.kept_rate, d.follow_ups.attainment) == (None, None, None)
    client.force_login(manager)
    html = client.get(reverse("dashboard")).content.decode()
    assert "No misses in this period." not in html  # the sales rows are shown, with zeros
    assert "Nothing happened in this period." in html and "No leads handed off in this period." in html
    assert "Nothing was handed off or fell due in the last 13 weeks." in html


# --- Pages ---------------------------------------------------------------------------------------
PERIOD_QUERY = "period=custom&start=2026-03-23&end=2026-04-12"


def test_the_page_shows_both_sides_with_drill_down_links(history, client, manager, monkeypatch):
    client.force_login(manager)
    with clock_at(monkeypatch, NOW):
        html = client.get(f"{reverse('dashboard')}?{PERIOD_QUERY}").content.decode()
    assert "23 Mar 2026 – 12 Apr 2026" in html
    assert "66.7 %" in html and "50 %" in html and "83.3 %" in html
    assert (
        f"{reverse('dashboard_leads')}?period=custom&amp;start=2026-03-23&amp;end=2026-04-12&amp;figure=claims_late"
        in html
    )
    assert 'data-chart-table="table-trends"' in html and "<script>" not in html and "style=" not in html
    assert "chart.umd.min.js" in html and "dashboard_live.js" in html


def test_the_drill_down_page_and_its_csv(history, client, manager, monkeypatch):
    client.force_login(manager)
    with clock_at(monkeypatch, NOW):
        page = client.get(f"{reverse('dashboard_leads')}?{PERIOD_QUERY}&figure=claims_late")
        assert page.status_code == 200
        assert "Late claims" in page.content.decode() and ">B<" in page.content.decode()
        export = client.get(f"{reverse('dashboard_leads')}?{PERIOD_QUERY}&figure=claims_late&format=csv")
    lines = export.content.decode("utf-8-sig").splitlines()  # the BOM tells Excel it is UTF-8
    assert lines[0] == "Lead,Email,Campaign,When,What,Who"
    assert [line.split(",")[0] for line in lines[1:]] == ["B", "E"]
    assert client.get(f"{reverse('dashboard_leads')}?figure=nonsense").status_code == 404


def test_csv_exports_neutralise_formulas(monkeypatch, client, manager, marketer, rep):
    campaign = CampaignFactory(owner=marketer, name='=HYPERLINK("http://evil")')
    lead = LeadFactory(campaign=campaign, full_name="@SUM(A1)", score=60)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    services.lead_claim(lead=lead, rep=rep)
    client.force_login(manager)
    marketing = client.get(reverse("dashboard_export", args=["marketing"])).content.decode()
    assert "'=HYPERLINK" in marketing and "\n=HYPERLINK" not in marketing
    claims = client.get(f"{reverse('dashboard_leads')}?figure=claims_on_time&format=csv").content.decode()
    assert "'@SUM(A1)" in claims
    assert client.get(reverse("dashboard_export", args=["nonsense"])).status_code == 404


def test_every_table_exports(client, manager, history, monkeypatch):
    client.force_login(manager)
    with clock_at(monkeypatch, NOW):
        for table in (
            "attribution",
            "reps",
            "breaches_by_team",
            "breaches_by_campaign",
            "breaches_by_channel",
            "marketing",
            "funnel_total",
            "funnel",
            "trends",
        ):
            response = client.get(f"{reverse('dashboard_export', args=[table])}?{PERIOD_QUERY}")
            assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
            assert "2026-03-23-2026-04-12" in response["Content-Disposition"]


def test_the_live_fragment(client, manager, history, monkeypatch):
    client.force_login(manager)
    with clock_at(monkeypatch, NOW):
        response = client.get(reverse("dashboard_live"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "not recorded yet" in html and "breach recorded" in html
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_only_managers_see_the_dashboard(client, rep):
    client.force_login(rep)
    for url in (reverse("dashboard"), reverse("dashboard_live"), reverse("dashboard_export", args=["reps"])):
        assert client.get(url).status_code == 403


def test_the_page_costs_the_same_number_of_queries_whatever_the_rows(
    client, manager, marketer, rep, django_assert_num_queries
):
    client.force_login(manager)

    def queries() -> int:
        cache.clear()  # measure the page with its trends computed, not read from the cache
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{reverse('dashboard')}?period=this_quarter").status_code == 200
        return len(captured)

    def some_history(campaign_count: int):
        for _ in range(campaign_count):
            campaign = CampaignFactory(owner=marketer)
            for _ in range(3):
                lead = LeadFactory(campaign=campaign)
                services.lead_qualify(lead=lead, actor=marketer)
                services.lead_hand_off(lead=lead, actor=marketer)
                services.lead_claim(lead=lead, rep=rep)
                services.lead_log_first_contact(lead=lead, actor=rep)

            waiting = LeadFactory(campaign=campaign)
            services.lead_qualify(lead=waiting, actor=marketer)
            services.lead_hand_off(lead=waiting, actor=marketer)
        now = timezone.now()
        Deadline.objects.running().filter(kind=K.CLAIM).update(
            starts_at=now - datetime.timedelta(hours=2), due_at=now - datetime.timedelta(hours=1)
        )
        sweep_deadlines()

    some_history(1)
    before = queries()
    some_history(4)
    UserFactory.create_batch(5, role=Role.SALES)
    after = queries()
    assert after == before
    cache.clear()
    with django_assert_num_queries(before):
        client.get(f"{reverse('dashboard')}?period=this_quarter")


def test_a_tables_csv_reads_only_what_it_shows_in_as_many_queries_whatever_the_rows(client, manager, marketer, rep):
    """The reps' CSV reads no acceptance, MQLs, percentiles, trends or appeals (the page does), and the
    same number of queries after more history."""
    client.force_login(manager)

    def statements(url: str) -> list[str]:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [query["sql"] for query in captured]

    def some_history():
        campaign = CampaignFactory(owner=marketer)
        for _ in range(3):
            lead = LeadFactory(campaign=campaign)
            services.lead_qualify(lead=lead, actor=marketer)
            services.lead_hand_off(lead=lead, actor=marketer)
            services.lead_claim(lead=lead, rep=rep)

    csv_url = f"{reverse('dashboard_export', args=['reps'])}?period=this_quarter"
    some_history()
    before = statements(csv_url)
    page = statements(f"{reverse('dashboard')}?period=this_quarter")
    some_history()
    UserFactory.create_batch(3, role=Role.SALES)

    assert len(statements(csv_url)) == len(before) < len(page)
    read = " ".join(before)
    for table in ("handoff_handoff", "leads_campaignmonthmqls", "PERCENTILE_CONT", "appeals_appeal"):
        assert table in " ".join(page) and table not in read, table


def test_the_period_is_read_through_index_ranges_not_all_history(history):
    """The deadline figures read `deadline_decided_idx` (its expression matches the query's), their
    percentiles `deadline_met_seconds_idx`, and the acceptance `handoff_handed_off_at_idx`; sequential
    scans are switched off so that the planner must say whether the indexes can answer at all (on a few
    rows it would rather scan)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    deadlines = decided_deadlines(period(), now=NOW).values("kind").annotate(n=Count("id")).order_by()
    assert "deadline_decided_idx" in deadlines.explain()
    # The percentiles' rows alone, from the index alone (it carries what LEAST(met_at, due_at) is made of).
    measured = decided_deadlines(period(), now=NOW, measured=True).values("kind")
    measured = measured.annotate(median=Percentile("business_seconds", 0.5)).order_by()
    assert "Index Only Scan using deadline_met_seconds_idx" in measured.explain()
    handoffs = acceptance_handoffs(period(), now=NOW).values("lead__campaign").annotate(n=Count("lead")).order_by()
    assert "handoff_handed_off_at_idx" in handoffs.explain()


def test_a_drill_down_page_costs_the_same_queries_whatever_its_rows(client, manager, marketer, rep):
    client.force_login(manager)
    campaign = CampaignFactory(owner=marketer)

    def claimed(count: int) -> int:
        for _ in range(count):
            lead = LeadFactory(campaign=campaign)
            services.lead_qualify(lead=lead, actor=marketer)
            services.lead_hand_off(lead=lead, actor=marketer)
            services.lead_claim(lead=lead, rep=rep)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(f"{reverse('dashboard_leads')}?figure=claims_on_time")
        assert page.status_code == 200
        return len(captured)

    assert claimed(1) == claimed(5)


def test_a_row_of_a_manager_who_held_a_lead_drills_down_to_it(client, monkeypatch, marketer, manager):
    """A lead escalated twice goes to a manager: their row's figures link to their leads, not to the
    default view the form would fall back to if it refused a manager as the person filter."""
    lead = LeadFactory(campaign=CampaignFactory(owner=marketer), score=60)
    with clock_at(monkeypatch, at(3, 30, 9)):
        services.lead_qualify(lead=lead, actor=marketer)
        services.lead_hand_off(lead=lead, actor=marketer)
    with clock_at(monkeypatch, at(3, 30, 10)):
        services.lead_assign_after_breach(lead=lead, breached_by=None, to_manager=True)
    client.force_login(manager)
    # The claim was the escalation's (nobody's); the first contact, due Tuesday 10:00, is the manager's.
    query = f"period=custom&start=2026-03-30&end=2026-03-31&figure=first_contacts_late&rep={manager.pk}"
    with clock_at(monkeypatch, NOW):
        csv_text = client.get(f"{reverse('dashboard_leads')}?{query}&format=csv").content.decode()
    assert csv_text.splitlines()[1].startswith(lead.full_name.split(",")[0])


def test_a_filters_query_is_its_params_url_encoded(history, marketer):
    """The links' query strings: the filters' own pairs encoded once per page, the same as encoding them
    all for each link, whatever is overridden, removed or added."""
    from urllib.parse import urlencode

    campaign = CampaignFactory(owner=marketer, channel="paid_search")
    filters = period(campaign=campaign, channel="paid_search", unassigned=True)
    for overrides in (
        {},
        {"figure": "claims_late"},
        {"figure": "returns", "reason": "Bad data & duplicates/é"},
        {"period": "last_month", "start": None, "end": None, "week": "2026-03-23"},
        {"unassigned": None, "no_team": None, "campaign": 7},
    ):
        assert filters.query(**overrides) == urlencode(filters.params(**overrides))
