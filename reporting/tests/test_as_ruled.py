"""The dashboard's attainment as recorded and as ruled (definition 9): an upheld appeal excuses its breach
in the ruled figures only; the recorded ones never change; each ruled figure equals the rows of its
drill-down, and differs from the recorded one by exactly the upheld appeals. The missed deadlines and
the heads come from appeals/tests/fixtures.py."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appeals.models import Ruling
from appeals.services import appeal_make, appeal_rule
from appeals.tests import fixtures
from reporting.dashboard import Filters, Period, drill, sla_dashboard
from sla.models import Deadline, Department

K = Deadline.Kind
START = fixtures.START
# The appeals' fixtures, used here too.
heads, missed, team = fixtures.heads, fixtures.missed, fixtures.team

pytestmark = pytest.mark.django_db
SALES, MARKETING = Department.SALES, Department.MARKETING
NOVEMBER = "period=custom&start=2026-11-01&end=2026-11-30"


def november() -> Filters:
    return Filters(
        period=Period.of(
            "custom", now=timezone.now(), first_day=datetime.date(2026, 11, 1), last_day=datetime.date(2026, 11, 30)
        )
    )


def met_in_time(deadline):
    deadline.met_at = START + datetime.timedelta(minutes=5)
    deadline.save(update_fields=["met_at"])
    return deadline


@pytest.fixture
def history(missed, rep, marketer, manager, team, heads):
    """In November: claims 1 on time, 2 late (the queue's); first contacts 1 on time, 3 late (rep's);
    follow-ups 2 late (marketer's). Every late one appealed; the rulings are each test's."""
    met_in_time(missed(K.CLAIM, None))
    met_in_time(missed(K.FIRST_CONTACT, rep))
    appeals = {
        K.CLAIM: [appeal_make(actor=manager, deadline=missed(K.CLAIM, None), reason="Outage") for _ in range(2)],
        K.FIRST_CONTACT: [
            appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number") for _ in range(3)
        ],
        K.FOLLOW_UP: [
            appeal_make(actor=marketer, deadline=missed(K.FOLLOW_UP, marketer), reason="Holiday") for _ in range(2)
        ],
    }
    return appeals


def rule(appeal, outcome, heads):
    judge = heads[MARKETING] if appeal.side == SALES else heads[SALES]
    return appeal_rule(actor=judge, appeal=appeal, outcome=outcome, note="Ruled in the test")


def figures(dashboard) -> dict:
    return {
        kind: (clock.on_time, clock.late, clock.attainment, clock.excused, clock.attainment_as_ruled)
        for kind, clock in (
            (K.CLAIM, dashboard.claims),
            (K.FIRST_CONTACT, dashboard.first_contacts),
            (K.FOLLOW_UP, dashboard.follow_ups),
        )
    }


def test_upheld_appeals_excuse_breaches_as_ruled_and_the_recorded_figures_never_change(history, heads):
    now = timezone.now()
    before = sla_dashboard(filters=november(), now=now)
    assert figures(before) == {
        K.CLAIM: (1, 2, 33.3, 0, 33.3),
        K.FIRST_CONTACT: (1, 3, 25.0, 0, 25.0),
        K.FOLLOW_UP: (0, 2, 0.0, 0, 0.0),
    }
    assert before.open_appeals == 7

    rule(history[K.CLAIM][0], Ruling.UPHELD, heads)
    rule(history[K.FIRST_CONTACT][0], Ruling.UPHELD, heads)
    rule(history[K.FIRST_CONTACT][1], Ruling.DISMISSED, heads)  # the breach stands
    rule(history[K.FOLLOW_UP][0], Ruling.UPHELD, heads)
    rule(history[K.FOLLOW_UP][1], Ruling.UPHELD, heads)
    after = sla_dashboard(filters=november(), now=now)

    assert figures(after) == {
        K.CLAIM: (1, 2, 33.3, 1, 50.0),
        K.FIRST_CONTACT: (1, 3, 25.0, 1, 33.3),
        K.FOLLOW_UP: (0, 2, 0.0, 2, None),  # nothing left to measure as ruled: no figure, not 100 %
    }
    assert after.open_appeals == 2  # claims[1], first_contacts[2]
    for kind in (K.CLAIM, K.FIRST_CONTACT, K.FOLLOW_UP):
        recorded, ruled = getattr(before, _clock(kind)), getattr(after, _clock(kind))
        assert (recorded.on_time, recorded.late, recorded.attainment) == (ruled.on_time, ruled.late, ruled.attainment)


def _clock(kind: str) -> str:
    return {K.CLAIM: "claims", K.FIRST_CONTACT: "first_contacts", K.FOLLOW_UP: "follow_ups"}[kind]


def test_each_ruled_figure_equals_its_drill_down_and_differs_from_recorded_by_the_upheld_appeals(history, heads):
    upheld = [history[K.CLAIM][1], history[K.FIRST_CONTACT][2], history[K.FIRST_CONTACT][0], history[K.FOLLOW_UP][1]]
    for appeal in upheld:
        rule(appeal, Ruling.UPHELD, heads)
    rule(history[K.FOLLOW_UP][0], Ruling.DISMISSED, heads)
    now = timezone.now()
    dashboard = sla_dashboard(filters=november(), now=now)

    for row in dashboard.as_ruled:
        late = {d.pk for d in drill(row.late, filters=november(), now=now).rows}
        excused = {d.pk for d in drill(row.excused, filters=november(), now=now).rows}
        late_as_ruled = {d.pk for d in drill(row.late_as_ruled, filters=november(), now=now).rows}
        assert len(late) == row.clock.late
        assert len(excused) == row.clock.excused
        assert len(late_as_ruled) == row.clock.late_as_ruled == row.clock.late - row.clock.excused
        assert late - late_as_ruled == excused
        assert excused == {a.deadline_id for a in upheld if a.deadline.kind == _kind_of(row.figure)}


def _kind_of(figure: str) -> str:
    return {"claims": K.CLAIM, "first_contacts": K.FIRST_CONTACT, "follow_ups": K.FOLLOW_UP}[figure]


def test_the_dashboard_shows_both_side_by_side_for_the_same_queries_whatever_the_appeals(
    client, history, heads, manager
):
    client.force_login(manager)

    def page() -> tuple[int, str]:
        cache.clear()  # the weekly trends, computed each time
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(f"{reverse('dashboard')}?{NOVEMBER}")
        assert answer.status_code == 200
        return len(captured), answer.content.decode()

    rule(history[K.FIRST_CONTACT][0], Ruling.UPHELD, heads)
    few, shown = page()
    assert "Attainment as recorded and as ruled" in shown
    assert '<td class="as-recorded">25 %</td>' in shown.replace("\u202f", " ").replace("&nbsp;", " ")
    for appeal in history[K.CLAIM] + history[K.FIRST_CONTACT][1:] + history[K.FOLLOW_UP]:
        rule(appeal, Ruling.UPHELD, heads)
    more, shown = page()
    assert few == more
    assert f'class="open-appeals" href="{reverse("appeals:list")}">0</a>' in shown
    assert "figure=first_contacts_excused" in shown and "figure=follow_ups_late_as_ruled" in shown
    drilled = client.get(f"{reverse('dashboard_leads')}?figure=first_contacts_excused&{NOVEMBER}")
    assert drilled.status_code == 200
