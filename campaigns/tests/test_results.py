"""A campaign's results: every figure from a hand-built story through the real services."""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.capture import LeadData, lead_capture, lead_merge
from campaigns.models import QualificationPolicy, ScoringRule
from campaigns.queries import MONTHS_SHOWN, campaign_results
from conftest import CampaignFactory, advance
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Deal, Lead
from sla.models import Deadline

pytestmark = pytest.mark.django_db

S = Lead.Status
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def qualification_by_hand():
    """Leads become MQLs only when a test says so: no rule scores, and the threshold is out of reach."""
    ScoringRule.objects.update(is_active=False)
    QualificationPolicy.objects.create(mql_threshold=100)


def capture(campaign, name: str, *, actor=None) -> Lead:
    email = f"{name.lower().replace(' ', '.')}@example.org"
    return lead_capture(campaign=campaign, data=LeadData(full_name=name, email=email), actor=actor).lead


def breach(lead: Lead, kind: str) -> None:
    """Let the lead's running `kind` deadline run out, then let the real sweep record the breach."""
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=kind).update(
        starts_at=now - datetime.timedelta(days=2), due_at=now - datetime.timedelta(days=1)
    )
    assert sweep_deadlines(now=now) == 1


@contextmanager
def clock_at(monkeypatch, moment: datetime.datetime):
    """The services stamp events with `timezone.now()`; stop that clock at `moment` for a while."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


@pytest.fixture
def story(marketer, rep):
    """One campaign (spend 1,200, target 2 MQLs a month) whose leads went every way there is.

    Captured 10 live leads (plus one merged away), 8 MQLs, 7 handed to sales, 6 accepted, 3 returned
    (2 "No budget", 1 "Outside our market"), 2 converted of which 1 won for 4,000, one claim and one
    first-contact breach. A second campaign's leads must not count.
    """
    campaign = CampaignFactory(owner=marketer, actual_spend=Decimal("1200"), target_mqls_per_month=2)
    other = CampaignFactory(owner=marketer)

    def lead(name, to=S.NEW):
        return advance(capture(campaign, name, actor=marketer), to, marketer=marketer, rep=rep)

    lead("New one")
    lead("Qualified one", S.MQL)
    breach(lead("Waiting one", S.HANDED_OFF), Deadline.Kind.CLAIM)
    lead("Returned one", S.RETURNED)  # reason "Outside our market"
    services.lead_return(lead=lead("Poor one", S.CLAIMED), actor=rep, reason="No budget")
    renurtured = lead("Renurtured one", S.CLAIMED)
    services.lead_return(lead=renurtured, actor=rep, reason="No budget")
    services.lead_renurture(lead=renurtured, actor=marketer)
    services.lead_qualify(lead=renurtured, actor=marketer)
    services.lead_convert(lead=lead("Won one", S.CONTACTED), actor=rep, value=Decimal("4000"), stage=Deal.Stage.WON)
    lead("Open deal", S.CONVERTED)  # an open deal worth 1,000: converted, not won
    breach(lead("Late one", S.CLAIMED), Deadline.Kind.FIRST_CONTACT)
    lead("Bogus one", S.DISQUALIFIED)
    capture(campaign, "New one", actor=marketer)  # captured again: still one lead
    lead_merge(duplicate=capture(campaign, "Twin"), into=capture(other, "Twin elsewhere"), actor=marketer)
    advance(capture(other, "Elsewhere"), S.CONVERTED, marketer=marketer, rep=rep)
    return campaign


def test_the_funnel_counts_each_lead_once_where_it_got_to(story):
    """Leads captured, MQLs, handed off, accepted, returned and converted count the campaign's live leads."""
    results = campaign_results(story, now=timezone.now())

    assert (results.captured, results.merged) == (10, 1)
    assert results.mqls == 8
    assert (results.handed_off, results.accepted, results.returned) == (7, 6, 3)
    assert (results.converted, results.won_deals, results.won_revenue) == (2, 1, Decimal("4000"))


def test_returns_are_broken_down_by_the_reps_reasons(story):
    """Most frequent reason first; the re-nurtured lead still counts as returned once."""
    results = campaign_results(story, now=timezone.now())

    assert results.returned_by_reason == [("No budget", 2), ("Outside our market", 1)]


def test_sla_breaches_on_its_leads_are_counted_by_kind(story):
    results = campaign_results(story, now=timezone.now())

    assert results.breaches == [("Claim", 1), ("First contact", 1), ("Returned-lead follow-up", 0)]
    assert (results.breach_total, results.breached_leads) == (2, 2)


def test_money_figures_divide_the_actual_spend(story):
    """Costs per lead, MQL and won deal divide the spend; ROI is (revenue − spend) / spend;
    sales acceptance is accepted / handed off."""
    results = campaign_results(story, now=timezone.now())

    assert results.spend == Decimal("1200")
    assert results.cost_per_lead == Decimal("120.00")
    assert results.cost_per_mql == Decimal("150.00")
    assert results.cost_per_won_deal == Decimal("1200.00")
    assert results.roi == 233.3
    assert results.acceptance_rate == 85.7


def test_leads_by_status_now_add_up_to_the_leads_captured(story):
    results = campaign_results(story, now=timezone.now())

    by_status = dict(results.by_status)
    assert sum(by_status.values()) == results.captured
    assert (by_status["MQL"], by_status["Converted"], by_status["Returned to marketing"]) == (2, 2, 2)
    assert "Merged into another lead" not in by_status


def test_this_months_mqls_are_set_against_the_target(story):
    """Every qualification of the story happened this month; earlier months the campaign ran show zero."""
    now = timezone.now()
    months = campaign_results(story, now=now).mqls_by_month

    assert months[-1].month == timezone.localdate(now).replace(day=1)
    assert (months[-1].mqls, months[-1].target, months[-1].target_met) == (8, 2, True)
    assert all(month.mqls == 0 for month in months[:-1])
    assert months[0].month == story.start_date.replace(day=1)


def test_a_lead_qualified_automatically_by_its_score_is_an_mql(marketer):
    """The capture's own qualification (no actor) writes the same QUALIFIED event, so it counts."""
    QualificationPolicy.objects.create(mql_threshold=0)
    campaign = CampaignFactory(owner=marketer)

    lead = capture(campaign, "Hot one")

    assert lead.status == S.MQL
    assert campaign_results(campaign, now=timezone.now()).mqls == 1


def test_months_are_calendar_months_of_the_current_time_zone(monkeypatch, marketer):
    """Given MQLs on 15 January and at 00:30 on 1 February Berlin time (still 31 January in UTC),
    a campaign that started in December shows Dec 0, Jan 1, Feb 1, Mar 0 in Berlin."""
    campaign = CampaignFactory(owner=marketer, start_date=datetime.date(2025, 12, 1), target_mqls_per_month=2)
    january, february = capture(campaign, "January"), capture(campaign, "February")
    with clock_at(monkeypatch, datetime.datetime(2026, 1, 15, 12, tzinfo=datetime.UTC)):
        services.lead_qualify(lead=january, actor=marketer)
    with clock_at(monkeypatch, datetime.datetime(2026, 1, 31, 23, 30, tzinfo=datetime.UTC)):
        services.lead_qualify(lead=february, actor=marketer)

    with timezone.override(BERLIN):
        months = campaign_results(campaign, now=datetime.datetime(2026, 3, 15, 12, tzinfo=BERLIN)).mqls_by_month

    assert [(m.month, m.mqls) for m in months] == [
        (datetime.date(2025, 12, 1), 0),
        (datetime.date(2026, 1, 1), 1),
        (datetime.date(2026, 2, 1), 1),
        (datetime.date(2026, 3, 1), 0),
    ]
    assert [m.percent_of_target for m in months] == [0.0, 50.0, 50.0, 0.0]
    assert months[1].target_met is False


def test_months_are_the_sites_months_whoever_looks(monkeypatch, marketer, settings):
    """The months come from a read model kept in the site's zone (TIME_ZONE, Berlin here): a viewer in
    New York sees the MQL of 00:30 on 1 February Berlin time in February too."""
    assert settings.TIME_ZONE == "Europe/Berlin"
    campaign = CampaignFactory(owner=marketer, start_date=datetime.date(2026, 1, 1))
    february = capture(campaign, "February")
    with clock_at(monkeypatch, datetime.datetime(2026, 1, 31, 23, 30, tzinfo=datetime.UTC)):
        services.lead_qualify(lead=february, actor=marketer)

    with timezone.override(ZoneInfo("America/New_York")):
        months = campaign_results(campaign, now=datetime.datetime(2026, 2, 15, 12, tzinfo=BERLIN)).mqls_by_month

    assert [(m.month, m.mqls) for m in months] == [(datetime.date(2026, 1, 1), 0), (datetime.date(2026, 2, 1), 1)]


def test_months_stop_at_the_end_date_and_show_at_most_a_year(marketer):
    now = datetime.datetime(2026, 3, 15, 12, tzinfo=BERLIN)
    ended = CampaignFactory(owner=marketer, start_date=datetime.date(2025, 11, 20), end_date=datetime.date(2026, 1, 5))
    long_running = CampaignFactory(owner=marketer, start_date=datetime.date(2023, 6, 1))
    not_started = CampaignFactory(owner=marketer, start_date=datetime.date(2026, 4, 1))

    with timezone.override(BERLIN):
        ended_months = [m.month for m in campaign_results(ended, now=now).mqls_by_month]
        long_months = [m.month for m in campaign_results(long_running, now=now).mqls_by_month]
        assert campaign_results(not_started, now=now).mqls_by_month == []

    assert ended_months == [datetime.date(2025, 11, 1), datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)]
    assert len(long_months) == MONTHS_SHOWN
    assert (long_months[0], long_months[-1]) == (datetime.date(2025, 4, 1), datetime.date(2026, 3, 1))


def test_months_cover_the_leads_captured_and_qualified_after_the_end_date(monkeypatch, marketer):
    """Given a trade fair that ran 20 Oct – 2 Nov, whose three leads met at the fair were qualified in
    December, the monthly table runs October to December and shows the three MQLs in December (it
    used to stop at November, showing none of them)."""
    fair = CampaignFactory(owner=marketer, start_date=datetime.date(2025, 10, 20), end_date=datetime.date(2025, 11, 2))
    leads = [capture(fair, name) for name in ("Ada", "Bea", "Cy")]
    Lead.objects.filter(campaign=fair).update(created_at=datetime.datetime(2025, 10, 25, 10, tzinfo=datetime.UTC))
    with clock_at(monkeypatch, datetime.datetime(2025, 12, 3, 10, tzinfo=datetime.UTC)):
        for lead in leads:
            services.lead_qualify(lead=lead, actor=marketer)

    with timezone.override(BERLIN):
        months = campaign_results(fair, now=datetime.datetime(2025, 12, 15, 12, tzinfo=BERLIN)).mqls_by_month

    assert [(m.month, m.mqls) for m in months] == [
        (datetime.date(2025, 10, 1), 0),
        (datetime.date(2025, 11, 1), 0),
        (datetime.date(2025, 12, 1), 3),
    ]


def test_without_a_target_the_months_have_nothing_to_meet(marketer):
    campaign = CampaignFactory(owner=marketer, target_mqls_per_month=0)

    month = campaign_results(campaign, now=timezone.now()).mqls_by_month[-1]

    assert (month.target, month.percent_of_target, month.target_met) == (0, None, None)


class TestNothingToDivideBy:
    def test_a_new_campaign_has_no_costs_rates_or_roi(self, marketer):
        """No spend and no leads: every ratio is None (shown as “–”), never a ZeroDivisionError."""
        campaign = CampaignFactory(owner=marketer, actual_spend=0)

        results = campaign_results(campaign, now=timezone.now())

        assert (results.captured, results.mqls, results.won_deals, results.won_revenue) == (0, 0, 0, 0)
        assert results.cost_per_lead is results.cost_per_mql is results.cost_per_won_deal is None
        assert results.roi is results.acceptance_rate is None
        assert results.returned_by_reason == []
        assert results.breaches == [("Claim", 0), ("First contact", 0), ("Returned-lead follow-up", 0)]

    def test_money_spent_on_leads_that_never_qualified(self, marketer):
        """Spend with leads but no MQL or deal: cost per lead only, and the whole spend lost (−100 %)."""
        campaign = CampaignFactory(owner=marketer, actual_spend=Decimal("300"))
        capture(campaign, "Cold one")

        results = campaign_results(campaign, now=timezone.now())

        assert results.cost_per_lead == Decimal("300.00")
        assert results.cost_per_mql is results.cost_per_won_deal is None
        assert results.roi == -100.0

    def test_revenue_without_spend_has_no_roi(self, marketer, rep):
        campaign = CampaignFactory(owner=marketer, actual_spend=0)
        lead = advance(capture(campaign, "Free one"), S.CONTACTED, marketer=marketer, rep=rep)
        services.lead_convert(lead=lead, actor=rep, value=Decimal("900"), stage=Deal.Stage.WON)

        results = campaign_results(campaign, now=timezone.now())

        assert (results.won_revenue, results.cost_per_won_deal, results.roi) == (Decimal("900"), Decimal("0.00"), None)


def test_the_results_cost_four_queries_whatever_the_number_of_leads(marketer, rep, django_assert_num_queries):
    campaign = CampaignFactory(owner=marketer)
    advance(capture(campaign, "First"), S.RETURNED, marketer=marketer, rep=rep)
    with django_assert_num_queries(4):
        campaign_results(campaign, now=timezone.now())

    for n in range(12):
        advance(capture(campaign, f"More {n}"), [S.MQL, S.RETURNED, S.CONVERTED][n % 3], marketer=marketer, rep=rep)
    with django_assert_num_queries(4):
        results = campaign_results(campaign, now=timezone.now())
    assert results.captured == 13


class TestResultsPage:
    def test_the_detail_page_shows_the_figures(self, client, marketer, story):
        client.force_login(marketer)

        response = client.get(reverse("campaigns:detail", args=[story.pk]))

        page = response.content.decode()
        assert response.status_code == 200
        assert response.context["results"].captured == 10
        for shown in ("Cost per won deal", "1,200.00", "233.3 %", "85.7 %", "No budget", "Outside our market"):
            assert shown in page
        for linked in ("campaigns:intake_settings", "campaigns:import", "campaigns:add_lead"):
            assert f'href="{reverse(linked, args=[story.pk])}"' in page

    def test_dashes_stand_for_figures_with_nothing_to_divide_by(self, client, marketer):
        campaign = CampaignFactory(owner=marketer, actual_spend=0)
        client.force_login(marketer)

        page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

        assert page.count('<div class="fs-3 fw-semibold">–</div>') == 5  # 3 costs, ROI, acceptance

    def test_the_page_costs_the_same_queries_with_many_more_leads(self, client, marketer, rep):
        """Results and the lead table together: more leads, in more states, never mean more queries."""
        campaign = CampaignFactory(owner=marketer)
        advance(capture(campaign, "First"), S.CONVERTED, marketer=marketer, rep=rep)
        client.force_login(marketer)
        url = reverse("campaigns:detail", args=[campaign.pk])

        def queries() -> int:
            with CaptureQueriesContext(connection) as context:
                assert client.get(url).status_code == 200
            return len(context)

        before = queries()
        for n in range(15):
            advance(
                capture(campaign, f"More {n}"),
                [S.RETURNED, S.CONVERTED, S.HANDED_OFF][n % 3],
                marketer=marketer,
                rep=rep,
            )
        assert queries() == before

    def test_reps_may_not_see_a_campaigns_results(self, client, rep, campaign):
        client.force_login(rep)

        assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 403
