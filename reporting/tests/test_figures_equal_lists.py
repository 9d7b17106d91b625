"""Every figure equals its list (issue 19): on random histories made through Handoff's own services —
leads captured, qualified, handed off, claimed, assigned, reassigned, contacted, held, resumed,
returned, requeued, re-nurtured, merged, converted, deals won and lost — with the clock moved between
the steps and the sweep and the escalations run, every number the dashboard links to a list (tiles,
table cells, the funnel) equals the number of rows that list shows, for several periods (this month,
which has not ended; last month; a custom range across the October DST change; one ending in the
future) and filters (none, team, rep, campaign, channel). And each table's CSV is the page's table.

The page is read as a manager reads it: rendered, every `<a href="/dashboard/leads/?…">N</a>` followed.
"""

import csv
import datetime
import html
import io
import random
import re
from contextlib import contextmanager, suppress
from decimal import Decimal
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from campaigns.capture import lead_merge
from campaigns.models import Campaign
from common.spreadsheet import restore_cell
from conftest import CampaignFactory, LeadFactory, UserFactory, around_the_clock
from enforcement.escalation import escalations_run
from enforcement.sweep import sweep_deadlines
from leads import deals, services
from leads.models import Deal, Lead, LeadEvent, RepProfile, ReturnReason, SalesTeam
from leads.transitions import TransitionError
from people.roles import Role
from reporting.dashboard import FIGURES, Filters, Period, drill, funnel_stages, sla_dashboard
from reporting.dashboard_tables import tables
from reporting.views import DashboardFilterForm
from sla.models import Deadline

pytestmark = pytest.mark.django_db
S = Lead.Status
BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 12 November 2026, 15:00 in Berlin: a month and a half of history behind it, October's DST
# change (Sunday 25 October) inside it, November not yet over.
START = datetime.datetime(2026, 10, 1, 8, tzinfo=BERLIN)
NOW = datetime.datetime(2026, 11, 12, 15, tzinfo=BERLIN)
PERIODS = [
    {"period": "this_month"},
    {"period": "last_month"},
    {"period": "custom", "start": "2026-10-20", "end": "2026-10-28"},
    {"period": "custom", "start": "2026-11-02", "end": "2026-11-20"},
]


@contextmanager
def clock_at(moment: datetime.datetime):
    """The services stamp events and clocks with `timezone.now()`: stop it at `moment` meanwhile."""
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


class History:
    """A random history through the services: one step every 20 minutes to 9 hours from START to NOW,
    each step one or two actions, then the sweep and the escalation steps due, as the workers would."""

    def __init__(self, seed: int, marketer, manager):
        self.rng = random.Random(seed)
        self.marketer, self.manager = marketer, manager
        self.north = SalesTeam.objects.create(name="North", manager=manager, calendar=around_the_clock())
        self.south = SalesTeam.objects.create(name="South", manager=manager)
        self.reps = [UserFactory(role=Role.SALES) for _ in range(4)]
        for rep, team in zip(self.reps, (self.north, self.north, self.south, None), strict=True):
            if team is not None:
                RepProfile.objects.create(user=rep, team=team, capacity=100)
        self.campaigns = [
            CampaignFactory(owner=marketer, channel=channel, target_mqls_per_month=20)
            for channel in (Campaign.Channel.EMAIL, Campaign.Channel.EMAIL, Campaign.Channel.EVENT)
        ]
        self.reasons = list(ReturnReason.objects.values_list("label", flat=True)) or ["Not ready to buy"]

    def leads(self, *statuses) -> list[Lead]:
        return list(Lead.objects.filter(status__in=statuses).order_by("pk"))

    def pick(self, *statuses) -> Lead | None:
        leads = self.leads(*statuses)
        return self.rng.choice(leads) if leads else None

    # --- actions: each returns quietly when nothing fits ---------------------------------------
    def capture(self):
        lead = LeadFactory(campaign=self.rng.choice(self.campaigns))
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CAPTURED, data={"source": "form"})
        if self.rng.random() < 0.85:
            services.lead_qualify(lead=lead, actor=self.marketer)
            if self.rng.random() < 0.85:
                services.lead_hand_off(lead=lead, actor=self.marketer)

    def qualify_or_hand_off(self):
        if lead := self.pick(S.NEW, S.MQL):
            if lead.status == S.NEW:
                services.lead_qualify(lead=lead, actor=self.marketer)
            else:
                services.lead_hand_off(lead=lead, actor=self.marketer)

    def claim(self):
        if lead := self.pick(S.HANDED_OFF):
            services.lead_claim(lead=lead, rep=self.rng.choice(self.reps))

    def assign(self):
        if lead := self.pick(S.HANDED_OFF, S.CLAIMED, S.CONTACTED):
            rep = self.rng.choice([rep for rep in self.reps if rep.pk != lead.owner_id])
            services.lead_assign(lead=lead, rep=rep, actor=self.manager)

    def contact(self):
        if lead := self.pick(S.CLAIMED):
            services.lead_log_first_contact(lead=lead, actor=lead.owner)

    def hold_or_resume(self):
        if lead := self.pick(S.CLAIMED, S.CONTACTED, S.ON_HOLD):
            if lead.status == S.ON_HOLD:
                services.lead_resume(lead=lead, actor=lead.owner)
            else:
                services.lead_hold(lead=lead, actor=lead.owner, reason="Waiting on the customer")

    def give_back(self):
        if lead := self.pick(S.CLAIMED, S.CONTACTED):
            if lead.status == S.CLAIMED and self.rng.random() < 0.5:
                services.lead_requeue(lead=lead, actor=lead.owner, reason="Going on leave")
            else:
                services.lead_return(lead=lead, actor=lead.owner, reason=self.rng.choice(self.reasons))

    def renurture(self):
        if lead := self.pick(S.RETURNED):
            services.lead_renurture(lead=lead, actor=self.marketer)
            if self.rng.random() < 0.6:
                services.lead_qualify(lead=lead, actor=self.marketer)

    def merge(self):
        duplicates = self.leads(S.NEW, S.MQL)
        survivors = self.leads(S.MQL, S.HANDED_OFF, S.CLAIMED, S.CONTACTED)
        if duplicates and survivors:
            duplicate = self.rng.choice(duplicates)
            into = self.rng.choice([lead for lead in survivors if lead.pk != duplicate.pk] or [None])
            if into is not None:
                lead_merge(duplicate=duplicate, into=into, actor=self.marketer)

    def convert(self):
        if lead := self.pick(S.CONTACTED):
            stage = Deal.Stage.WON if self.rng.random() < 0.3 else Deal.Stage.QUALIFIED
            value = Decimal(self.rng.randint(5, 50) * 100)
            services.lead_convert(lead=lead, actor=lead.owner, value=value, stage=stage)
        open_deals = list(Deal.objects.filter(stage__in=Deal.OPEN_STAGES).order_by("pk"))
        if open_deals and self.rng.random() < 0.5:
            deal = self.rng.choice(open_deals)
            won = self.rng.random() < 0.6
            deals.deal_move(
                deal=deal,
                actor=self.manager,
                stage=Deal.Stage.WON if won else Deal.Stage.LOST,
                lost_reason="" if won else "Price",
            )

    ACTIONS = (
        (capture, 5),
        (qualify_or_hand_off, 2),
        (claim, 4),
        (assign, 2),
        (contact, 3),
        (hold_or_resume, 1),
        (give_back, 1),
        (renurture, 1),
        (merge, 1),
        (convert, 2),
    )

    def sweep(self, now: datetime.datetime):
        """What the workers do: the sweep records breaches and opens escalations; their steps run (with
        North's automatic assignment on, so the escalation has someone to give leads to)."""
        if not Deadline.objects.due(now).exists():
            return  # nothing fell due since the last sweep: the workers would have nothing to do
        sweep_deadlines(now=now)
        pending = list(
            Deadline.objects.filter(breached_at__isnull=False, escalations__done_at__isnull=True)
            .distinct()
            .values_list("pk", flat=True)
        )
        if pending:
            SalesTeam.objects.filter(pk=self.north.pk).update(auto_assign=True)
            escalations_run(deadline_ids=pending, now=now)
            SalesTeam.objects.filter(pk=self.north.pk).update(auto_assign=False)

    def run(self, *, until: datetime.datetime = NOW) -> None:
        actions, weights = zip(*self.ACTIONS, strict=True)
        moment = START
        while True:
            moment += datetime.timedelta(minutes=self.rng.randint(20, 540))
            if moment >= until:
                break
            with clock_at(moment):
                for action in self.rng.choices(actions, weights, k=self.rng.randint(1, 2)):
                    # Not allowed in the state the dice chose (capacity, a closed deal): skipped.
                    with suppress(TransitionError, ValidationError):
                        action(self)
                self.sweep(moment)
        with clock_at(until):
            self.sweep(until - datetime.timedelta(minutes=7))  # the sweep has not recorded the last minutes


LINK = re.compile(r'<a [^>]*href="(/dashboard/leads/\?[^"]*)"[^>]*>([^<]*)</a>')
NUMBER = re.compile(r"^\s*(\d[\d,]*)(\s*\(.*\))?\s*$")


def drill_rows(query: QueryDict) -> int:
    """How many rows the drill-down at `query` lists (its rows, not a read model's count of them)."""
    form = DashboardFilterForm(query)
    assert form.is_valid(), form.errors
    filters = form.filters(now=NOW)
    return drill(query["figure"], filters=filters, now=NOW, reason=query.get("reason", "")).rows.count()


def filter_sets(history: History) -> list[dict]:
    return [
        {},
        {"team": history.north.pk},
        {"rep": history.reps[3].pk},  # a rep in no team
        {"campaign": history.campaigns[0].pk},
        {"channel": Campaign.Channel.EVENT},
    ]


@pytest.mark.parametrize("seed", [11, 12])
def test_every_figure_equals_its_list_and_every_csv_its_table(seed, client, marketer, manager):
    """One history per seed (making it is most of the time), then the three checks below."""
    history = History(seed, marketer, manager)
    history.run()
    client.force_login(manager)
    every_linked_figure_on_the_page_equals_the_rows_its_list_shows(client, history)
    every_registered_headline_figure_equals_its_list(history)
    each_tables_csv_is_the_pages_table(client, history)


def every_linked_figure_on_the_page_equals_the_rows_its_list_shows(client, history):
    checked, nonzero, mismatches = 0, 0, []
    figures_seen, counted = set(), {}
    for period in PERIODS:
        for extra in filter_sets(history):
            params = {**period, **{name: str(value) for name, value in extra.items()}}
            with clock_at(NOW):
                page = client.get(reverse("dashboard"), params)
            assert page.status_code == 200
            for href, text in LINK.findall(page.content.decode()):
                number = NUMBER.match(html.unescape(text))
                if number is None:
                    continue  # a rate linking to its list (the list is its numerator's, checked as a count)
                shown = int(number.group(1).replace(",", ""))
                query = QueryDict(urlsplit(html.unescape(href)).query)
                figures_seen.add(query["figure"])
                key = query.urlencode()
                if key not in counted:
                    counted[key] = drill_rows(query)
                listed = counted[key]
                checked += 1
                nonzero += bool(shown)
                if shown != listed:
                    mismatches.append((params, query.urlencode(), shown, listed))
    assert not mismatches, f"{len(mismatches)} of {checked} figures differ from their lists: {mismatches[:8]}"
    assert nonzero > 100, f"only {nonzero} figures above 0: the history made too little happen"
    headline = {name for name, figure in FIGURES.items() if figure.total is not None}
    assert headline <= figures_seen, f"tiles never linked: {headline - figures_seen}"


def every_registered_headline_figure_equals_its_list(history):
    """The registry itself: every figure with a headline total equals its list (a rate's numerator too),
    for every filter; two periods (each full dashboard costs; the page's check covers all four)."""
    for period in PERIODS[1::2]:
        for extra in filter_sets(history):
            query = QueryDict(mutable=True)
            query.update({**period, **{name: str(value) for name, value in extra.items()}})
            filters = DashboardFilterForm(query).filters(now=NOW)
            with clock_at(NOW):
                dashboard = sla_dashboard(filters=filters, now=NOW)
            for name, figure in FIGURES.items():
                if figure.total is None:
                    continue
                listed = drill(name, filters=filters, now=NOW).rows.count()
                assert figure.total(dashboard) == listed, (name, query.urlencode())


class PageTables(HTMLParser):
    """The tables of a rendered dashboard as a manager's browser holds them: per `id="table-…"`, the
    headings, then per row each cell's value (`data-value`, what the charts read) or its text."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current = self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self.current = self.tables.setdefault(attrs["id"].removeprefix("table-"), [])
        elif self.current is not None and tag == "tr":
            self.current.append([])
        elif self.current is not None and tag in ("td", "th"):
            self.cell = attrs.get("data-value")
            self.current[-1].append("")

    def handle_data(self, data):
        if self.current is not None and self.current and self.current[-1] and self.cell is None:
            self.current[-1][-1] += data

    def handle_endtag(self, tag):
        if self.current is not None and tag in ("td", "th") and self.cell is not None:
            self.current[-1][-1] = self.cell
        if tag in ("td", "th"):
            self.cell = None
        elif tag == "table":
            self.current = None


def each_tables_csv_is_the_pages_table(client, history):
    """Every table on the page exports as CSV with the same headings, rows and values, for each period
    and a filter; a table the page shows empty exports its headings alone. Each export reads only the
    parts of the figures its table shows (`dashboard_tables.TABLES`), so this also checks that each
    table names the parts it needs. Two periods (one ended, one not) keep the test's time reasonable."""
    compared = 0
    for period in PERIODS[:3:2]:
        for extra in ({}, {"team": str(history.north.pk)}):
            params = {**period, **extra}
            with clock_at(NOW):
                page = client.get(reverse("dashboard"), params)
            parser = PageTables()
            parser.feed(page.content.decode())
            exports = re.findall(r'href="/dashboard/export/([a-z_]+)\.csv', page.content.decode())
            assert len(exports) >= 8
            for name in exports:
                with clock_at(NOW):
                    response = client.get(reverse("dashboard_export", args=[name]), params)
                assert response.status_code == 200
                rows = [
                    [restore_cell(value) for value in row]
                    for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
                ]
                shown = [[html.unescape(text).strip() for text in row] for row in parser.tables.get(name, [])]
                if shown:
                    assert rows == shown, name
                    compared += len(rows) - 1
                else:
                    assert len(rows) == 1, f"{name}: the page shows no rows, the CSV has {len(rows) - 1}"
    assert compared > 50, "hardly any rows compared"


# --- Partial periods and the funnel's rates (definitions 6 and 9) --------------------------------
def test_a_period_not_yet_over_says_so_with_how_much_of_it_has_gone():
    """On Thursday 12 November at 15:00 this month is 11 days and 15 hours old; last month is over; a
    range ending on the 20th has not ended; one in December has not begun."""
    this_month = Period.of("this_month", now=NOW)
    assert this_month.label_at(NOW) == "1–12 Nov 2026 so far, of November 2026"
    assert this_month.share_gone(NOW) == pytest.approx((11 * 24 + 15) / (30 * 24))
    last_month = Period.of("last_month", now=NOW)
    assert (last_month.label_at(NOW), last_month.share_gone(NOW)) == ("October 2026", 1.0)
    ending_later = Period.of(
        "custom", now=NOW, first_day=datetime.date(2026, 11, 2), last_day=datetime.date(2026, 11, 20)
    )
    assert ending_later.label_at(NOW) == "2–12 Nov 2026 so far, of 2 Nov 2026 – 20 Nov 2026"
    december = Period.of("custom", now=NOW, first_day=datetime.date(2026, 12, 1), last_day=datetime.date(2026, 12, 31))
    assert (december.label_at(NOW), december.share_gone(NOW)) == ("December 2026 (not begun)", 0.0)
    # 25 October has 25 hours (summer time ends): at noon, 13 of them have passed.
    dst_day = Period.of("custom", now=NOW, first_day=datetime.date(2026, 10, 25), last_day=datetime.date(2026, 10, 25))
    assert dst_day.share_gone(datetime.datetime(2026, 10, 25, 12, tzinfo=BERLIN)) == pytest.approx(13 / 25)


def test_the_page_labels_a_partial_period_and_its_of_target(client, marketer, manager):
    campaign = CampaignFactory(owner=marketer, target_mqls_per_month=30, name="Autumn fair")
    with clock_at(NOW - datetime.timedelta(days=2)):
        lead = LeadFactory(campaign=campaign)
        services.lead_qualify(lead=lead, actor=marketer)
        services.lead_hand_off(lead=lead, actor=marketer)
    d = sla_dashboard(filters=Filters(period=Period.of("this_month", now=NOW)), now=NOW)
    built = tables(d, lambda figure, **overrides: "")
    (row,) = [row for row in built["marketing"].rows if row[0].value == "Autumn fair"]
    assert (row[2].value, row[3].value, row[4].value) == (1, 30, 3.3)
    assert row[4].text == "3.3 % so far (38 % of the period gone)"
    assert built["trends"].rows[-1][0].text == "9 Nov (so far)"
    assert not any("so far" in row[0].text for row in built["trends"].rows[:-1])
    client.force_login(manager)
    with clock_at(NOW):
        page = client.get(reverse("dashboard")).content.decode()
        last_month = client.get(reverse("dashboard"), {"period": "last_month"}).content.decode()
    assert "1–12 Nov 2026 so far, of November 2026" in page
    assert "so far" not in last_month.split("</h1>")[0]


def test_the_funnels_rates_never_round_a_loss_away():
    """Definition 6 in the funnel too: 2,000 of 2,001 is 99.9 %, 1 of 2,001 is 0.1 %."""
    stages = funnel_stages([2001, 2000, 1, 0, 0, 0, 0])
    assert [step for *_, step in stages] == [None, 99.9, 0.1, 0.0, None, None, None]
    assert [figure for _, figure, _, _ in stages][3] == "acceptance_kept"
