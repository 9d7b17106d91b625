"""Monthly targets: month arithmetic in the configured time zone, what counts as won, the department's and
every rep's progress in a constant number of queries, who may set targets, and the pages."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, UserFactory, advance
from leads import targets
from leads.models import Deal, Lead, MonthlyTarget
from leads.targets import (
    add_months,
    days_left,
    department_progress,
    home_targets,
    month_bounds,
    month_overview,
    month_start,
    parse_month,
    rep_history,
    rep_progress,
    target_set,
)
from people.roles import Role

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC
MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)
OCTOBER = datetime.date(2026, 10, 1)


def berlin(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BERLIN)


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def won_deal(owner, closed_at, value="1000.00", *, marketer, stage=Deal.Stage.WON) -> Deal:
    """A deal `owner` closed at `closed_at`, on a lead they brought to first contact."""
    lead = advance(LeadFactory(), Lead.Status.CONTACTED, marketer=marketer, rep=owner)
    closed = closed_at if stage in (Deal.Stage.WON, Deal.Stage.LOST) else None
    return Deal.objects.create(
        lead=lead,
        owner=owner,
        value=Decimal(value),
        stage=stage,
        closed_at=closed,
        lost_reason="Went with a competitor" if stage == Deal.Stage.LOST else "",
    )


@pytest.fixture
def berlin_time(settings):
    settings.TIME_ZONE = "Europe/Berlin"


# ---- Month arithmetic ---------------------------------------------------------------------------


def test_month_start_and_add_months_cross_year_ends():
    assert month_start(datetime.date(2026, 3, 31)) == MARCH
    assert add_months(datetime.date(2026, 1, 1), -1) == datetime.date(2025, 12, 1)
    assert add_months(datetime.date(2025, 12, 1), 1) == datetime.date(2026, 1, 1)
    assert add_months(MARCH, -14) == datetime.date(2025, 1, 1)


def test_month_start_reads_an_aware_datetime_in_the_configured_time_zone(berlin_time):
    """00:10 on 1 April in Berlin is still 31 March in UTC, and it is April."""
    assert month_start(utc(2026, 3, 31, 22, 10)) == APRIL
    assert month_start(utc(2026, 3, 31, 21, 30)) == MARCH


def test_march_runs_from_berlin_midnight_to_berlin_midnight_across_the_spring_change(berlin_time):
    """Given Berlin (CET in winter, CEST from 29 March 2026), then March is 1 March 00:00 CET to 1 April
    00:00 CEST: 23:00 UTC on 28 February to 22:00 UTC on 31 March, 743 hours long."""
    start, end = month_bounds(MARCH)

    assert (start, end) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    # Subtract in UTC: Python subtracts datetimes sharing a tzinfo by wall clock, ignoring the change.
    assert end.astimezone(UTC) - start.astimezone(UTC) == datetime.timedelta(hours=31 * 24 - 1)


def test_october_gains_the_hour_of_the_autumn_change(berlin_time):
    start, end = month_bounds(OCTOBER)

    assert (start, end) == (utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
    assert end.astimezone(UTC) - start.astimezone(UTC) == datetime.timedelta(hours=31 * 24 + 1)


def test_month_bounds_follow_the_configured_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"

    assert month_bounds(MARCH) == (utc(2026, 3, 1, 5), utc(2026, 4, 1, 4))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2026, 3, 1, 0, 5), 31),  # first minutes of the month (still February in UTC): all of it
        (berlin(2026, 3, 15, 12), 17),
        (berlin(2026, 3, 31, 23, 59), 1),  # the last day counts until it ends
        (berlin(2026, 4, 1, 0, 0), 0),  # March has ended
        (berlin(2027, 1, 10), 0),
        (berlin(2026, 2, 20), 31),  # a month still to come: all of it
    ],
)
def test_days_left_count_today_and_end_at_zero(berlin_time, now, expected):
    assert days_left(MARCH, now) == expected


def test_days_left_refuses_a_naive_now():
    with pytest.raises(ValueError):
        days_left(MARCH, datetime.datetime(2026, 3, 15, 12))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03", MARCH),
        (" 2026-04 ", APRIL),
        ("2026-13", None),
        ("2026-00", None),
        ("2026-3", None),
        ("march", None),
        ("", None),
        ("0000-01", None),
        ("9999-12", None),
        ("2026-03-01", None),
    ],
)
def test_parse_month_accepts_only_yyyy_mm(value, expected):
    assert parse_month(value) == expected


# ---- What counts --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deal_counts_for_the_berlin_month_it_was_won_in(berlin_time, marketer, rep):
    """Given a deal won at 23:30 on 31 March in Berlin (21:30 UTC) and one at 00:10 on 1 April in Berlin
    (22:10 UTC on 31 March), then the first is March's and the second April's."""
    won_deal(rep, berlin(2026, 3, 31, 23, 30), "700.00", marketer=marketer)
    won_deal(rep, berlin(2026, 4, 1, 0, 10), "300.00", marketer=marketer)
    now = berlin(2026, 4, 15)

    march, april = rep_progress(rep=rep, month=MARCH, now=now), rep_progress(rep=rep, month=APRIL, now=now)

    assert (march.won_deals, march.won_revenue) == (1, Decimal("700.00"))
    assert (april.won_deals, april.won_revenue) == (1, Decimal("300.00"))


@pytest.mark.django_db
def test_the_same_deals_fall_in_other_months_under_another_configured_zone(settings, marketer, rep):
    """Given TIME_ZONE UTC, then the deal won at 00:10 Berlin time on 1 April (22:10 UTC) is March's."""
    won_deal(rep, berlin(2026, 3, 31, 23, 30), marketer=marketer)
    won_deal(rep, berlin(2026, 4, 1, 0, 10), marketer=marketer)
    settings.TIME_ZONE = "UTC"

    assert rep_progress(rep=rep, month=MARCH, now=utc(2026, 4, 15)).won_deals == 2


@pytest.mark.django_db
def test_deals_won_on_the_days_clocks_change_count_for_their_month(berlin_time, marketer, rep):
    won_deal(rep, berlin(2026, 3, 29, 3, 30), marketer=marketer)  # just after the spring change
    won_deal(rep, berlin(2026, 10, 25, 2, 30, 0).replace(fold=1), marketer=marketer)  # the repeated hour
    won_deal(rep, berlin(2026, 10, 31, 23, 59), marketer=marketer)
    now = berlin(2026, 12, 1)

    assert rep_progress(rep=rep, month=MARCH, now=now).won_deals == 1
    assert rep_progress(rep=rep, month=OCTOBER, now=now).won_deals == 2
    assert rep_progress(rep=rep, month=datetime.date(2026, 11, 1), now=now).won_deals == 0


@pytest.mark.django_db
def test_only_won_deals_count_not_open_or_lost_ones(berlin_time, marketer, rep, manager):
    """Given a March deal won, one lost, one still qualified, then March shows one deal and its value."""
    target_set(month=MARCH, rep=rep, deals_won=4, revenue=Decimal("10000"), actor=manager)
    won_deal(rep, berlin(2026, 3, 10), "2500.00", marketer=marketer)
    won_deal(rep, berlin(2026, 3, 11), "9000.00", marketer=marketer, stage=Deal.Stage.LOST)
    won_deal(rep, berlin(2026, 3, 12), "9000.00", marketer=marketer, stage=Deal.Stage.QUALIFIED)

    progress = rep_progress(rep=rep, month=MARCH, now=berlin(2026, 3, 20))

    assert progress == targets.Progress(
        target_deals=4,
        target_revenue=Decimal("10000.00"),
        won_deals=1,
        won_revenue=Decimal("2500.00"),
        pct_deals=25,
        pct_revenue=25,
        days_left=12,
    )


@pytest.mark.django_db
def test_a_deal_converted_straight_to_won_counts_this_month(marketer, rep, manager):
    """Through the real door: a lead converted as won closes now and counts for this month."""
    from leads.services import lead_convert

    lead = advance(LeadFactory(), Lead.Status.CONTACTED, marketer=marketer, rep=rep)
    lead_convert(lead=lead, actor=rep, value=Decimal("1234.50"), stage=Deal.Stage.WON)

    progress = home_targets(rep, timezone.now()).mine
    assert (progress.won_deals, progress.won_revenue) == (1, Decimal("1234.50"))


@pytest.mark.django_db
def test_percentages_round_down_and_go_past_a_hundred(berlin_time, marketer, rep, manager):
    """Given a target of 3 deals and 1000, when the rep wins 2 deals worth 999.99 then 66% and 99% (not yet
    met); a third and fourth deal make it 133% and the bar stops at full."""
    target_set(month=MARCH, rep=rep, deals_won=3, revenue=Decimal("1000"), actor=manager)
    won_deal(rep, berlin(2026, 3, 2), "500.00", marketer=marketer)
    won_deal(rep, berlin(2026, 3, 3), "499.99", marketer=marketer)
    now = berlin(2026, 3, 20)

    progress = rep_progress(rep=rep, month=MARCH, now=now)
    assert (progress.pct_deals, progress.pct_revenue, progress.revenue.met) == (66, 99, False)
    assert (progress.deals.to_go, progress.revenue.to_go) == (1, Decimal("0.01"))

    won_deal(rep, berlin(2026, 3, 4), "1.00", marketer=marketer)
    won_deal(rep, berlin(2026, 3, 5), "1.00", marketer=marketer)
    progress = rep_progress(rep=rep, month=MARCH, now=now)
    assert (progress.pct_deals, progress.deals.bar, progress.deals.met, progress.deals.to_go) == (133, 100, True, 0)


@pytest.mark.django_db
def test_without_a_target_there_is_no_percentage(berlin_time, marketer, rep, manager):
    won_deal(rep, berlin(2026, 3, 2), marketer=marketer)
    target_set(month=MARCH, rep=None, deals_won=0, revenue=Decimal("5000"), actor=manager)
    now = berlin(2026, 3, 20)

    mine, department = rep_progress(rep=rep, month=MARCH, now=now), department_progress(month=MARCH, now=now)

    assert (mine.target_deals, mine.pct_deals, mine.pct_revenue) == (None, None, None)
    assert (department.pct_deals, department.pct_revenue) == (None, 20)


@pytest.mark.django_db
def test_the_department_is_the_sum_over_its_reps_against_its_own_target(berlin_time, marketer, rep, other_rep, manager):
    """Given two reps' won March deals (and an April one), then the department's March figures are their sum,
    measured against the department target rather than the sum of personal targets."""
    target_set(month=MARCH, rep=None, deals_won=10, revenue=Decimal("20000"), actor=manager)
    target_set(month=MARCH, rep=rep, deals_won=2, revenue=Decimal("3000"), actor=manager)
    won_deal(rep, berlin(2026, 3, 2), "1000.00", marketer=marketer)
    won_deal(rep, berlin(2026, 3, 9), "2000.00", marketer=marketer)
    won_deal(other_rep, berlin(2026, 3, 20), "2000.00", marketer=marketer)
    won_deal(other_rep, berlin(2026, 4, 1, 0, 1), "9000.00", marketer=marketer)
    now = berlin(2026, 3, 25)

    department = department_progress(month=MARCH, now=now)
    overview = month_overview(month=MARCH, now=now)

    assert (department.won_deals, department.won_revenue) == (3, Decimal("5000.00"))
    assert department.won_deals == sum(progress.won_deals for _, progress in overview)
    assert department.won_revenue == sum(progress.won_revenue for _, progress in overview)
    assert (department.pct_deals, department.pct_revenue, department.days_left) == (30, 25, 7)
    assert {user.username: (p.won_deals, p.pct_deals) for user, p in overview} == {
        "rep": (2, 100),
        "other_rep": (1, None),
    }


@pytest.mark.django_db
def test_a_rep_who_left_keeps_their_past_month_in_the_overview_and_the_department(
    berlin_time, marketer, rep, other_rep, manager
):
    won_deal(other_rep, berlin(2026, 3, 2), "800.00", marketer=marketer)
    other_rep.is_active = False
    other_rep.save(update_fields=["is_active"])
    now = berlin(2026, 5, 2)

    march = month_overview(month=MARCH, now=now)
    april = month_overview(month=APRIL, now=now)

    assert {user.username for user, _ in march} == {"rep", "other_rep"}
    assert [user.username for user, _ in april] == ["rep"]
    assert department_progress(month=MARCH, now=now).won_revenue == Decimal("800.00")


def reps_with_deals(count: int, *, marketer, manager, month_day: datetime.datetime) -> None:
    for index in range(count):
        rep = UserFactory(role=Role.SALES)
        target_set(month=month_day.date(), rep=rep, deals_won=3, revenue=Decimal("900"), actor=manager)
        won_deal(rep, month_day + datetime.timedelta(hours=index), marketer=marketer)
        won_deal(rep, month_day + datetime.timedelta(days=1), marketer=marketer)


@pytest.mark.django_db
def test_the_overview_takes_three_queries_for_three_reps_and_for_twelve(berlin_time, marketer, manager):
    """Given 3 reps with targets and won deals, then 9 more, then the overview runs the same three queries."""
    day = berlin(2026, 3, 10, 9)
    now = berlin(2026, 3, 20)
    reps_with_deals(3, marketer=marketer, manager=manager, month_day=day)
    with CaptureQueriesContext(connection) as few:
        assert len(month_overview(month=MARCH, now=now)) == 3

    reps_with_deals(9, marketer=marketer, manager=manager, month_day=day)
    with CaptureQueriesContext(connection) as many:
        overview = month_overview(month=MARCH, now=now)

    assert len(overview) == 12
    assert all((p.won_deals, p.pct_deals) == (2, 66) for _, p in overview)
    assert len(few) == len(many) == 3


@pytest.mark.django_db
def test_a_reps_history_shows_this_month_and_the_twelve_before_in_two_queries(berlin_time, marketer, rep, manager):
    """Given targets and wins in March 2026 and in March 2025 (12 months back) and a win 13 months back, then
    the history lists 13 months newest first, with those figures, and ignores the older win."""
    target_set(month=MARCH.replace(year=2025), rep=rep, deals_won=1, revenue=Decimal("100"), actor=manager)
    target_set(month=MARCH, rep=rep, deals_won=2, revenue=Decimal("100"), actor=manager)
    won_deal(rep, berlin(2025, 3, 1, 0, 30), "150.00", marketer=marketer)
    won_deal(rep, berlin(2025, 2, 28, 23, 30), "999.00", marketer=marketer)
    won_deal(rep, berlin(2026, 3, 1, 0, 30), "50.00", marketer=marketer)
    now = berlin(2026, 3, 15)

    with CaptureQueriesContext(connection) as queries:
        history = rep_history(rep=rep, now=now, months=12)

    assert len(queries) == 2
    assert [month for month, _ in history] == [add_months(MARCH, -back) for back in range(13)]
    figures = {month: (p.won_deals, p.won_revenue, p.pct_deals, p.days_left) for month, p in history}
    assert figures[MARCH] == (1, Decimal("50.00"), 50, 17)
    assert figures[datetime.date(2025, 3, 1)] == (1, Decimal("150.00"), 100, 0)
    assert sum(p.won_deals for _, p in history) == 2


# ---- Setting targets ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_sets_a_target_once_per_month_normalised_to_the_first(manager, rep):
    """Setting twice in the same month (on any day) replaces the target: one row, the first of the month."""
    target_set(month=datetime.date(2026, 3, 17), rep=rep, deals_won=3, revenue=Decimal("5000"), actor=manager)
    target_set(month=datetime.date(2026, 3, 31), rep=rep, deals_won=5, revenue=Decimal("7500.50"), actor=manager)
    target_set(month=MARCH, rep=None, deals_won=20, revenue=Decimal("50000"), actor=manager)
    target_set(month=MARCH, rep=None, deals_won=25, revenue=Decimal("60000"), actor=manager)

    rows = MonthlyTarget.objects.filter(month=MARCH)
    assert {(t.rep_id, t.deals_won, t.revenue, t.set_by_id) for t in rows} == {
        (rep.pk, 5, Decimal("7500.50"), manager.pk),
        (None, 25, Decimal("60000.00"), manager.pk),
    }
    assert MonthlyTarget.objects.count() == 2


@pytest.mark.django_db
def test_only_managers_set_targets(rep, other_rep, marketer):
    for actor in (rep, marketer):
        with pytest.raises(PermissionDenied):
            target_set(month=MARCH, rep=other_rep, deals_won=1, revenue=Decimal("1"), actor=actor)
        with pytest.raises(PermissionDenied):
            targets.targets_set_bulk(month=MARCH, targets=[(None, 1, Decimal("1"))], actor=actor)
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deals_won", "revenue"),
    [(-1, Decimal("10")), (1, Decimal("-0.01")), (1, Decimal("1.005")), (1, Decimal("1" * 13)), ("many", 1)],
)
def test_a_target_that_does_not_fit_is_refused_and_nothing_saved(manager, rep, deals_won, revenue):
    with pytest.raises(ValidationError):
        target_set(month=MARCH, rep=rep, deals_won=deals_won, revenue=revenue, actor=manager)
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
def test_personal_targets_are_for_sales_reps_only(manager, marketer):
    with pytest.raises(ValidationError):
        target_set(month=MARCH, rep=marketer, deals_won=1, revenue=Decimal("1"), actor=manager)
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
def test_bulk_setting_leaves_unchanged_rows_and_their_setter_alone(manager, rep, other_rep):
    """Given rep's target set by one manager, when another saves the month with rep's row unchanged and
    other_rep left at 0/0, then only the department's target is written and rep's still names the first."""
    target_set(month=MARCH, rep=rep, deals_won=3, revenue=Decimal("300"), actor=manager)
    second = UserFactory(role=Role.MANAGERS)

    changed = targets.targets_set_bulk(
        month=MARCH,
        targets=[(None, 10, Decimal("1000")), (rep, 3, Decimal("300.00")), (other_rep, 0, Decimal("0"))],
        actor=second,
    )

    assert [(t.rep_id, t.set_by_id) for t in changed] == [(None, second.pk)]
    assert MonthlyTarget.objects.get(rep=rep).set_by == manager
    assert not MonthlyTarget.objects.filter(rep=other_rep).exists()


# ---- Pages --------------------------------------------------------------------------------------


def targets_url(month: str | None = None) -> str:
    return reverse("leads:targets") + (f"?month={month}" if month is not None else "")


def row_data(rows: list[tuple[object, object, object]]) -> dict:
    """POST data for the targets formset from (rep id or "", deals won, revenue) rows."""
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows))}
    for index, (rep, deals, revenue) in enumerate(rows):
        data |= {f"form-{index}-rep": rep, f"form-{index}-deals_won": deals, f"form-{index}-revenue": revenue}
    return data


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["leads:targets", "leads:my_targets"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_reps_and_marketers_cannot_open_or_post_to_the_managers_page(client, rep, marketer):
    for user in (rep, marketer):
        client.force_login(user)
        assert client.get(targets_url()).status_code == 403
        assert client.post(targets_url("2026-03"), row_data([("", 5, "100")])).status_code == 403
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
def test_the_rep_page_is_for_sales(client, manager, marketer):
    for user in (manager, marketer):
        client.force_login(user)
        assert client.get(reverse("leads:my_targets")).status_code == 403


@pytest.mark.django_db
def test_a_manager_sees_this_month_with_the_department_and_every_rep(client, berlin_time, manager, rep, other_rep):
    client.force_login(manager)

    response = client.get(targets_url())

    assert response.status_code == 200
    assert response.context["month"] == month_start(timezone.now())
    assert [form.rep_key for form, _ in response.context["rows"]] == [None] + [
        user.pk for user, _ in month_overview(month=response.context["month"], now=timezone.now())
    ]
    html = response.content.decode()
    assert "Department" in html and rep.get_full_name() in html and other_rep.get_full_name() in html


@pytest.mark.django_db
def test_a_manager_saves_the_department_and_personal_targets_of_a_month(client, manager, rep, other_rep):
    """When a manager posts March's rows, then the changed ones are saved for March and the page comes back
    on March with a message; other_rep left at 0/0 gets no target."""
    client.force_login(manager)

    response = client.post(
        targets_url("2026-03"), row_data([("", "12", "30000"), (rep.pk, "4", "9999.99"), (other_rep.pk, "0", "0")])
    )

    assert response.status_code == 302
    assert response.url == targets_url("2026-03")
    saved = {(t.rep_id, t.deals_won, t.revenue) for t in MonthlyTarget.objects.filter(month=MARCH)}
    assert saved == {(None, 12, Decimal("30000.00")), (rep.pk, 4, Decimal("9999.99"))}
    assert MonthlyTarget.objects.count() == 2
    page = client.get(response.url)
    assert page_messages(page) == ["Saved 2 targets for March 2026."]
    assert [form.initial["deals_won"] for form, _ in page.context["rows"]][:1] == [12]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deals", "revenue"),
    [
        ("-1", "100"),
        ("two", "100"),
        ("1.5", "100"),
        ("1", "-5"),
        ("1", "12.345"),
        ("1", "lots"),
        ("", "100"),
        ("1", "NaN"),
        ("99999999999", "1"),
    ],
)
def test_invalid_targets_are_marked_and_nothing_is_saved(client, manager, rep, deals, revenue):
    """Given one bad value among good rows, then the page comes back (200) with a message and the row
    marked, and no target at all is saved."""
    client.force_login(manager)

    response = client.post(targets_url("2026-03"), row_data([("", "12", "30000"), (rep.pk, deals, revenue)]))

    assert response.status_code == 200
    assert page_messages(response) == ["Nothing was saved: correct the marked targets."]
    assert "is-invalid" in response.content.decode()
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("rep_value", ["999999", "abc", "marketer"])
def test_a_row_for_someone_who_is_not_a_rep_is_refused(client, manager, marketer, rep_value):
    client.force_login(manager)
    rep_value = str(marketer.pk) if rep_value == "marketer" else rep_value

    response = client.post(targets_url("2026-03"), row_data([(rep_value, "1", "1")]))

    assert response.status_code == 200
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
def test_two_department_rows_are_refused(client, manager):
    client.force_login(manager)

    response = client.post(targets_url("2026-03"), row_data([("", "1", "1"), ("", "2", "2")]))

    assert response.status_code == 200
    assert "has one row" in response.content.decode()
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
def test_a_tampered_management_form_is_an_error_not_a_crash(client, manager):
    client.force_login(manager)

    response = client.post(targets_url("2026-03"), {"form-0-deals_won": "1"})

    assert response.status_code == 200
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["2026-13", "abc", "2026-3", "0000-01", "9999-12", "2026-03-01"])
def test_a_bad_month_shows_this_month_with_a_message(client, manager, month):
    client.force_login(manager)

    response = client.get(targets_url(month))

    assert response.status_code == 200
    assert response.context["month"] == month_start(timezone.now())
    assert page_messages(response) == ["That is not a month (use YYYY-MM); showing this month."]


@pytest.mark.django_db
def test_posting_to_a_bad_month_saves_nothing(client, manager):
    client.force_login(manager)

    response = client.post(targets_url("2026-99"), row_data([("", "5", "500")]), follow=True)

    assert response.status_code == 200
    assert page_messages(response) == ["That is not a month (use YYYY-MM); nothing was saved."]
    assert not MonthlyTarget.objects.exists()


@pytest.mark.django_db
def test_past_months_stay_visible_with_their_targets_and_results(client, berlin_time, manager, rep, marketer):
    """Given a target and a won deal in January 2025, then the managers' page for that month shows both, and
    links to the months either side."""
    target_set(month=datetime.date(2025, 1, 1), rep=rep, deals_won=2, revenue=Decimal("400"), actor=manager)
    won_deal(rep, berlin(2025, 1, 31, 23, 45), "200.00", marketer=marketer)
    client.force_login(manager)

    response = client.get(targets_url("2025-01"))

    assert response.status_code == 200
    progress = dict((form.rep_key, p) for form, p in response.context["rows"])[rep.pk]
    assert (progress.won_deals, progress.pct_deals, progress.pct_revenue, progress.days_left) == (1, 50, 50, 0)
    html = response.content.decode()
    assert 'href="?month=2024-12"' in html and 'href="?month=2025-02"' in html
    assert "This month has ended" in html


@pytest.mark.django_db
def test_the_managers_page_runs_the_same_queries_for_3_and_12_reps(client, berlin_time, marketer, manager):
    now_day = timezone.localtime().replace(hour=0, minute=5)
    reps_with_deals(3, marketer=marketer, manager=manager, month_day=now_day)
    client.force_login(manager)
    client.get(targets_url())  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(targets_url()).status_code == 200

    reps_with_deals(9, marketer=marketer, manager=manager, month_day=now_day)
    with CaptureQueriesContext(connection) as many:
        response = client.get(targets_url())

    assert len(response.context["rows"]) == 13
    assert len(few) == len(many)


@pytest.mark.django_db
def test_home_targets_give_the_rep_this_months_progress_and_the_partial_shows_it(
    berlin_time, marketer, rep, other_rep, manager
):
    """Given March targets and wins, when the rep's home page asks on 20 March, then it gets their own and the
    department's progress with 12 days left, and the partial shows both as progress bars."""
    target_set(month=MARCH, rep=rep, deals_won=4, revenue=Decimal("4000"), actor=manager)
    target_set(month=MARCH, rep=None, deals_won=10, revenue=Decimal("20000"), actor=manager)
    won_deal(rep, berlin(2026, 3, 3), "1000.00", marketer=marketer)
    won_deal(other_rep, berlin(2026, 3, 4), "4000.00", marketer=marketer)

    home = home_targets(rep, berlin(2026, 3, 20, 10))

    assert (home.month, home.days_left) == (MARCH, 12)
    assert (home.mine.won_deals, home.mine.pct_deals, home.mine.pct_revenue) == (1, 25, 25)
    assert (home.department.won_deals, home.department.pct_deals, home.department.pct_revenue) == (2, 20, 25)
    html = render_to_string("leads/_target_progress.html", {"targets": home})
    assert "March 2026" in html and "12 days left" in html
    assert html.count('class="progress-bar') == 4
    assert "of €4,000.00 · <strong>25%</strong>" in html


@pytest.mark.parametrize(
    ("measure", "money", "shown", "bar"),
    [
        (targets.Attainment(3, 4, 75), False, "3 of 4 · <strong>75%</strong>", '"progress-bar" data-width="75"'),
        (targets.Attainment(5, 4, 125), False, "5 of 4 · <strong>125%</strong>", "progress-bar bg-success"),
        (targets.Attainment(Decimal("0.00"), None, None), True, '€0.00 <span class="text-muted">· no target', None),
        (
            targets.Attainment(Decimal("1234.5"), Decimal("1000"), 123),
            True,
            "€1,234.50 of €1,000.00 · <strong>123%</strong>",
            'aria-valuenow="100"',
        ),
    ],
)
def test_a_target_bar_says_what_was_won_of_what_and_draws_the_bar_only_with_a_target(measure, money, shown, bar):
    html = Template("{% load targets %}{% target_bar label measure money=money %}").render(
        Context({"label": "Rev <b>", "measure": measure, "money": money})
    )

    assert "<span>Rev &lt;b&gt;</span>" in html and shown in html
    assert (bar in html) if bar else ("progress" not in html)


@pytest.mark.django_db
def test_a_rep_sees_their_own_attainment_month_by_month(client, marketer, rep, other_rep, manager):
    this_month = month_start(timezone.now())
    target_set(month=this_month, rep=rep, deals_won=2, revenue=Decimal("100"), actor=manager)
    target_set(month=this_month, rep=other_rep, deals_won=9, revenue=Decimal("900"), actor=manager)
    won_deal(rep, timezone.now(), "60.00", marketer=marketer)
    won_deal(other_rep, timezone.now(), "70.00", marketer=marketer)
    client.force_login(rep)

    response = client.get(reverse("leads:my_targets"))

    assert response.status_code == 200
    history = response.context["history"]
    assert len(history) == 13
    assert (history[0][0], history[0][1].won_revenue, history[0][1].pct_deals) == (this_month, Decimal("60.00"), 50)
    html = response.content.decode()
    assert "70.00" not in html.split("The last twelve months")[1]
