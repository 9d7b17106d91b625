"""The dashboard's page as a manager reads it (issue 23): the headline band first, each rate against the
period before; red only for a problem that is there; the detection line only when the sweep is slow;
the first and last day only for a custom period; only reps in the Rep list; money with its currency;
an empty chart said in words; the tables in sections that fold."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import CampaignFactory, LeadFactory, advance
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Deal, Lead
from reporting.dashboard import Period
from reporting.headline import Trend, previous_period
from sla.models import Deadline

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)


def page(client, manager, query: str = "") -> str:
    client.force_login(manager)
    response = client.get(f"{reverse('dashboard')}{query}")
    assert response.status_code == 200
    return response.content.decode()


def tile_value(html: str, label: str) -> tuple[str, str]:
    """The classes and the text of the value of the tile labelled `label`."""
    match = re.search(re.escape(label) + r'</div>\s*<div class="(figure-value[^"]*)">(.*?)</div>', html, re.S)
    assert match, f"no tile {label!r}"
    return match.group(1), re.sub(r"<[^>]+>", "", match.group(2)).strip()


def late_claim(campaign, marketer, *, due: datetime.datetime, recorded_after: datetime.timedelta) -> Deadline:
    """A claim left in the queue that fell due at `due`, its breach recorded by the sweep `recorded_after` it."""
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
    Deadline.objects.filter(lead=lead).update(starts_at=due - HOUR, due_at=due, warn_at=None)
    assert sweep_deadlines(now=due + recorded_after) == 1
    return Deadline.objects.get(lead=lead)


# --- The period before and the trend --------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "last", "before"),
    [
        ((2026, 12, 1), (2026, 12, 31), ((2026, 11, 1), (2026, 11, 30))),  # this month: the month before
        ((2026, 3, 1), (2026, 3, 31), ((2026, 2, 1), (2026, 2, 28))),  # a short month before a long one
        ((2026, 10, 1), (2026, 12, 31), ((2026, 7, 1), (2026, 9, 30))),  # a quarter: the quarter before
        ((2027, 1, 1), (2027, 3, 31), ((2026, 10, 1), (2026, 12, 31))),  # across the year
        ((2026, 3, 23), (2026, 4, 12), ((2026, 3, 2), (2026, 3, 22))),  # 21 custom days: the 21 before
    ],
)
def test_the_period_before_is_as_long_and_ends_the_day_before(first, last, before):
    period = previous_period(Period("custom", datetime.date(*first), datetime.date(*last)))
    assert (period.first_day, period.last_day) == (datetime.date(*before[0]), datetime.date(*before[1]))


def test_a_trend_says_which_way_and_by_how_much():
    assert (Trend(80.0, 50.0, "November 2026").arrow, Trend(80.0, 50.0, "November 2026").text) == (
        "▲",
        "30 pts vs November 2026 (50 %)",
    )
    assert Trend(40.0, 50.5, "November 2026").direction == "down"
    assert Trend(50.0, 50.0, "November 2026").text == "as in November 2026"
    assert Trend(50.0, None, "November 2026").text == "nothing to compare in November 2026"
    assert Trend(None, 50.0, "November 2026").arrow == ""


def test_the_headline_compares_attainment_with_the_period_before(client, manager, marketer, rep, campaign):
    """Last month one claim fell due unmet (0 %); this month one was claimed in time (100 %): the
    headline says 100 %, up 100 points on last month."""
    now = timezone.now()
    this_month = Period.of("this_month", now=now)
    late_claim(campaign, marketer, due=this_month.start - 2 * 24 * HOUR, recorded_after=2 * SECOND)
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
    services.lead_claim(lead=lead, rep=rep)

    html = page(client, manager)

    classes, text = tile_value(html, "Claim attainment")
    assert text == "100 %" and "text-danger" not in classes
    last_month = previous_period(this_month).label
    assert f"100 pts vs {last_month} (0 %)" in html
    assert html.index('id="title-headline"') < html.index('id="dashboard-filters"') < html.index('id="title-live"')


# --- Red only for a problem that is there --------------------------------------------------------
def test_nothing_late_paints_nothing_red(client, manager):
    html = page(client, manager)
    for label in ("Sales late now", "Follow-ups late now", "Sales overdue now", "Marketing overdue now"):
        classes, text = tile_value(html, label)
        assert text == "0" and "text-danger" not in classes, (label, classes, text)
    assert "border-danger" not in html


def test_a_late_claim_now_is_red_in_the_headline_and_the_live_part(client, manager, marketer, campaign):
    late_claim(campaign, marketer, due=timezone.now() - HOUR, recorded_after=2 * SECOND)
    html = page(client, manager)
    for label in ("Sales late now", "Sales overdue now"):
        classes, text = tile_value(html, label)
        assert text == "1" and "text-danger" in classes, (label, classes, text)
    for label in ("Follow-ups late now", "Marketing overdue now"):
        classes, text = tile_value(html, label)
        assert text == "0" and "text-danger" not in classes, label


# --- The detection line --------------------------------------------------------------------------
def test_the_detection_line_shows_only_when_the_sweep_is_slow(client, manager, marketer, campaign):
    late_claim(campaign, marketer, due=timezone.now() - 2 * HOUR, recorded_after=2 * SECOND)
    assert "after the due time" not in page(client, manager), "breaches recorded in 2 s: nothing to say"

    for _ in range(3):
        late_claim(campaign, marketer, due=timezone.now() - 3 * HOUR, recorded_after=10 * 60 * SECOND)
    html = page(client, manager)
    assert "after the due time" in html and "promised: 10 s" in html


# --- The period's dates --------------------------------------------------------------------------
def test_the_first_and_last_day_only_for_a_custom_period(client, manager):
    html = page(client, manager)
    assert re.search(r"data-custom-dates hidden", html)
    html = page(client, manager, "?period=last_month")
    assert re.search(r"data-custom-dates hidden", html)
    html = page(client, manager, "?period=custom&start=2026-03-01&end=2026-03-31")
    assert "data-custom-dates>" in html and "data-custom-dates hidden" not in html
    assert 'value="2026-03-01"' in html


def test_a_bad_custom_period_keeps_the_dates_and_the_filters_open(client, manager):
    html = page(client, manager, "?period=custom&start=2026-03-31&end=2026-03-01")
    assert "data-custom-dates hidden" not in html
    assert 'class="collapse d-md-block show"' in html and "The last day of the range is before the first." in html


# --- The Rep list --------------------------------------------------------------------------------
def test_only_reps_in_the_rep_list_and_a_managers_row_still_drills_down(client, manager, rep, other_rep):
    html = page(client, manager)
    rep_list = re.search(r'<select name="rep".*?</select>', html, re.S).group(0)
    assert f'value="{rep.pk}"' in rep_list and f'value="{other_rep.pk}"' in rep_list
    assert f'value="{manager.pk}"' not in rep_list

    # "Sales by rep" links a manager's row (a lead an escalation gave them) with rep=<manager>: still valid
    html = page(client, manager, f"?rep={manager.pk}")
    rep_list = re.search(r'<select name="rep".*?</select>', html, re.S).group(0)
    assert f'value="{manager.pk}" selected' in rep_list and "Showing this month instead" not in html


# --- Money, empty charts, sections ---------------------------------------------------------------
def test_money_has_its_currency_as_on_other_pages(client, manager, marketer, rep, settings):
    settings.CURRENCY = "EUR"
    campaign = CampaignFactory(owner=marketer, actual_spend=Decimal("1500"))
    lead = advance(LeadFactory(campaign=campaign, score=90), Lead.Status.CONTACTED, marketer=marketer, rep=rep)
    services.lead_convert(lead=lead, actor=rep, value=Decimal("12500"), stage=Deal.Stage.WON)

    html = page(client, manager)

    assert "worth €12,500.00" in html  # the Conversions and Deals won tiles
    assert ">€12,500.00<" in html and ">€1,500.00<" in html  # the funnel's won revenue and spend
    assert "worth 12,500.00" not in html


def test_an_empty_chart_says_so_in_words(client, manager, marketer, rep, campaign):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
    services.lead_claim(lead=lead, rep=rep)  # a rep with a row, nobody late

    html = page(client, manager)

    assert 'id="table-reps"' in html and 'data-chart-table="table-reps"' not in html
    assert "Nobody was late with a claim or a first contact in this period: no chart to draw." in html

    late_claim(campaign, marketer, due=timezone.now() - HOUR, recorded_after=2 * SECOND)
    assert 'data-chart-table="table-breaches_by_campaign"' in page(client, manager)


def test_the_tables_fold_into_sections_and_definitions_wait_behind_a_question_mark(client, manager):
    html = page(client, manager)
    sections = re.findall(r'<details class="dashboard-section[^"]*" id="section-([a-z-]+)"(?: open)?>', html)
    assert sections == ["sales", "marketing", "misses", "by-rep", "by-group", "by-campaign", "funnel"]
    assert 'id="section-by-rep" open' not in html
    assert html.count('<details class="definition">') >= 6 + 5 + 17 + 10  # headline, live part, both sides
    # a tile's definition is in its "?", not printed under the number
    assert re.search(r"What “Claims late” means</span></summary><p[^>]*>claim deadlines that fell due", html)
