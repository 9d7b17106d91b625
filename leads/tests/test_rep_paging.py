"""The managers' per-rep pages (teams, targets) a page of reps at a time, by team and name, chosen by team
and name (`leads.reps`): what a page shows, what it saves, where it comes back to, and that its queries do
not grow with the reps."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, UserFactory
from leads.models import Deal, MonthlyTarget, RepProfile, SalesTeam
from leads.reps import REPS_PER_PAGE
from leads.targets import month_start, target_set
from people.roles import Role

pytestmark = pytest.mark.django_db

TEAMS = reverse("leads:teams")
TARGETS = reverse("leads:targets")


def reps(count: int, *, team=None, first_name="Rep") -> list:
    """`count` sales reps named `first_name` 00, 01, … (so their order by name is their order here)."""
    made = []
    for index in range(count):
        rep = UserFactory(role=Role.SALES, first_name=first_name, last_name=f"{index:02d}")
        RepProfile.objects.create(user=rep, team=team)
        made.append(rep)
    return made


def names(response) -> list[str]:
    return [profile.user.last_name for profile in response.context["profiles"]]


def target_reps(response) -> list:
    """The rep ids of the targets page's rows, the department (None) first."""
    return [form.rep_key for form, _ in response.context["rows"]]


def row_data(rows) -> dict:
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows))}
    for index, (rep, deals, revenue) in enumerate(rows):
        data |= {f"form-{index}-rep": rep, f"form-{index}-deals_won": deals, f"form-{index}-revenue": revenue}
    return data


# ---- Teams ----------------------------------------------------------------------------------------


def test_the_teams_page_runs_the_same_queries_for_one_rep_and_for_two_pages_of_them(client, manager):
    """Given one rep, then 29 more (two pages), the page runs the same queries and shows a page of reps, by
    team and name, reps in no team last; every team is listed with its head count."""
    north = SalesTeam.objects.create(name="North", manager=manager)
    reps(1, team=north)
    client.force_login(manager)
    client.get(TEAMS)
    with CaptureQueriesContext(connection) as few:
        assert client.get(TEAMS).status_code == 200

    south = SalesTeam.objects.create(name="South")
    reps(14, team=south, first_name="Bea")
    reps(15, first_name="Al")
    with CaptureQueriesContext(connection) as many:
        first = client.get(TEAMS)
    second = client.get(TEAMS, {"page": 2})

    assert len(few) == len(many)
    assert len(first.context["profiles"]) == REPS_PER_PAGE
    assert [p.team for p in first.context["profiles"]][:2] == [north, south]
    assert [p.team for p in second.context["profiles"]] == [None] * 5  # the no-team reps come last
    assert {team.name: team.rep_count for team in first.context["teams"]} == {"North": 1, "South": 14}
    assert "Page 1 of 2" in first.text and "Page 2 of 2" in second.text


def test_the_teams_page_filters_reps_by_team_by_no_team_and_by_name(client, manager):
    north = SalesTeam.objects.create(name="North")
    reps(2, team=north, first_name="Nora")
    reps(2, first_name="Ned")
    UserFactory(role=Role.MARKETING, first_name="Nora", last_name="Marketing")
    client.force_login(manager)

    assert names(client.get(TEAMS, {"team": north.pk})) == ["00", "01"]
    assert [p.user.first_name for p in client.get(TEAMS, {"team": "none"}).context["profiles"]] == ["Ned", "Ned"]
    assert [p.user.first_name for p in client.get(TEAMS, {"search": "nor 01"}).context["profiles"]] == ["Nora"]
    response = client.get(TEAMS, {"team": "999999", "search": "x" * 500})
    assert response.status_code == 200
    assert len(response.context["profiles"]) == 4  # neither understood: every rep, and a warning
    assert [str(m) for m in response.context["messages"]] == ["Some filters were not understood and were left out."]


def test_editing_a_rep_comes_back_to_the_page_and_filters_it_was_opened_from(client, manager):
    north = SalesTeam.objects.create(name="North")
    rep = reps(30, team=north)[27]
    client.force_login(manager)
    page = client.get(TEAMS, {"team": north.pk, "page": 2})
    came_from = f"{TEAMS}?team={north.pk}&page=2"
    edit = next(p.edit_url for p in page.context["profiles"] if p.user == rep)
    assert edit.startswith(reverse("leads:rep_edit", args=[rep.pk]) + "?next=")

    form = client.get(edit)
    assert f'href="{came_from.replace("&", "&amp;")}"' in form.text  # Cancel goes back there too
    response = client.post(edit, {"team": north.pk, "capacity": "7", "next": came_from})

    assert response.status_code == 302 and response.url == came_from
    assert RepProfile.objects.get(user=rep).capacity == 7


@pytest.mark.parametrize("elsewhere", ["https://evil.example/leads/teams/?a=1", "//evil.example", "/leads/queue/?a=1"])
def test_editing_a_rep_never_goes_back_anywhere_but_the_teams_page(client, manager, rep, elsewhere):
    client.force_login(manager)

    response = client.post(reverse("leads:rep_edit", args=[rep.pk]), {"capacity": "7", "next": elsewhere})

    assert response.status_code == 302 and response.url == TEAMS


def test_creating_a_team_keeps_the_reps_filters_and_page(client, manager):
    reps(30)
    client.force_login(manager)

    response = client.post(f"{TEAMS}?search=Rep&page=2", {"name": "West", "manager": manager.pk})

    assert response.status_code == 302 and response.url == f"{TEAMS}?search=Rep&page=2"
    assert SalesTeam.objects.filter(name="West").exists()


# ---- Targets --------------------------------------------------------------------------------------


def test_the_targets_page_runs_the_same_queries_for_one_rep_and_for_two_pages_of_them(client, manager):
    """Given one rep, then 29 more, the page runs the same queries; each page shows the department and a
    page of reps; the department's progress counts every rep's deals, those on other pages too."""
    reps(1)
    client.force_login(manager)
    client.get(TARGETS)
    with CaptureQueriesContext(connection) as few:
        assert client.get(TARGETS).status_code == 200

    many_reps = reps(29, first_name="Zed")
    last = many_reps[-1]  # on the second page
    Deal.objects.create(
        lead=LeadFactory(), owner=last, value=Decimal("500"), stage=Deal.Stage.WON, closed_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as many:
        first = client.get(TARGETS)
    second = client.get(TARGETS, {"page": 2})

    assert len(few) == len(many)
    assert target_reps(first)[0] is None and len(target_reps(first)) == 1 + REPS_PER_PAGE
    assert target_reps(second) == [None] + [rep.pk for rep in many_reps[-5:]]
    assert first.context["department"].won_deals == 1  # the deal of a rep on page 2
    assert first.context["rows"][0][1].won_revenue == Decimal("500")


def test_saving_a_page_of_targets_leaves_the_other_pages_alone_and_comes_back_with_the_filters(client, manager):
    """A manager saves page 1 of the reps named "Rep": the rep on page 2 keeps the target set before."""
    everyone = reps(30)
    month = month_start(timezone.now())
    target_set(month=month, rep=everyone[-1], deals_won=9, revenue=Decimal("90"), actor=manager)
    client.force_login(manager)
    url = f"{TARGETS}?search=Rep&page=1"
    page = client.get(url)
    rows = [("", "0", "0")] + [(rep, "2", "20") for rep in target_reps(page)[1:]]

    response = client.post(url, row_data(rows))

    assert response.status_code == 302
    assert response.url == f"{TARGETS}?search=Rep&page=1&month={month:%Y-%m}"
    saved = {t.rep_id: t.deals_won for t in MonthlyTarget.objects.filter(month=month)}
    assert saved == {**{rep.pk: 2 for rep in everyone[:REPS_PER_PAGE]}, everyone[-1].pk: 9}


def test_the_pager_saves_the_page_before_it_turns_it(client, manager):
    everyone = reps(30)
    month = month_start(timezone.now())
    client.force_login(manager)

    response = client.post(TARGETS, {**row_data([("", "0", "0"), (everyone[0].pk, "3", "30")]), "go": "2"})

    assert response.status_code == 302 and response.url == f"{TARGETS}?month={month:%Y-%m}&page=2"
    assert MonthlyTarget.objects.get(rep=everyone[0]).deals_won == 3
    page = client.get(response.url)
    assert [str(m) for m in page.context["messages"]] == [f"Saved 1 target for {month:%B %Y}."]
    assert target_reps(page) == [None] + [rep.pk for rep in everyone[REPS_PER_PAGE:]]


def test_turning_the_page_without_a_change_says_nothing(client, manager):
    reps(30)
    client.force_login(manager)

    response = client.post(TARGETS, {**row_data([("", "0", "0")]), "go": "2"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == []
    assert not MonthlyTarget.objects.exists()


def test_a_refused_page_comes_back_with_the_rows_that_were_posted(client, manager):
    """The rows of page 2, posted with a bad value, come back as they were typed, whatever page the URL
    says, and nothing is saved."""
    everyone = reps(30)
    client.force_login(manager)
    posted = [("", "1", "1"), (everyone[-1].pk, "-1", "5"), (everyone[-2].pk, "4", "40")]

    response = client.post(TARGETS, row_data(posted))

    assert response.status_code == 200
    assert target_reps(response) == [None, everyone[-1].pk, everyone[-2].pk]
    assert 'value="40"' in response.text and "is-invalid" in response.text
    assert not MonthlyTarget.objects.exists()


def test_the_targets_page_filters_reps_by_team_and_name_and_keeps_them_across_months(client, manager):
    north = SalesTeam.objects.create(name="North")
    northern = reps(2, team=north, first_name="Nora")
    reps(2, first_name="Ned")
    client.force_login(manager)

    response = client.get(TARGETS, {"team": north.pk, "month": "2026-03"})

    assert target_reps(response) == [None] + [rep.pk for rep in northern]
    assert f'href="?month=2026-02&amp;team={north.pk}"' in response.text
    assert target_reps(client.get(TARGETS, {"search": "ned 01"}))[1:] == [
        RepProfile.objects.get(user__first_name="Ned", user__last_name="01").user_id
    ]
