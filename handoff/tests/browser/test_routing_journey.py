"""Journey 5: a manager writes a territory rule, previews it, leads are handed off, and the manager
sees who got them and why."""

import pytest

from conftest import LeadFactory, UserFactory, advance, around_the_clock
from handoff.tests.browser.conftest import PHONE
from leads import services
from leads.models import Lead, RepProfile, SalesTeam
from people.roles import Role
from routing.models import RuleSet, WorkingHours

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_routes_a_territory_and_reads_why(open_tab, marketer, manager, campaign):
    # Given two teams that assign automatically around the clock, one rep each
    dach_rep = UserFactory(username="dora", first_name="Dora", last_name="Deutsch", role=Role.SALES)
    world_rep = UserFactory(username="walt", first_name="Walt", last_name="World", role=Role.SALES)
    for name, rep in (("DACH", dach_rep), ("World", world_rep)):
        team = SalesTeam.objects.create(name=name, auto_assign=True, calendar=around_the_clock())
        RepProfile.objects.create(user=rep, team=team)
    berlin = advance(
        LeadFactory(campaign=campaign, full_name="Bea Berlin", country="Germany"),
        Lead.Status.MQL,
        marketer=marketer,
        rep=None,
    )
    tokyo = advance(
        LeadFactory(campaign=campaign, full_name="Taro Tokyo", country="Japan"),
        Lead.Status.MQL,
        marketer=marketer,
        rep=None,
    )
    tab = open_tab(manager)
    page = tab.page

    # When the manager writes a DACH territory rule and a default rule, and publishes them
    tab.visit("/routing/rules/", shot="rules-empty")
    first, second = page.locator("fieldset").nth(0), page.locator("fieldset").nth(1)
    first.get_by_label("Name").fill("DACH territory")
    first.get_by_label("Team").select_option(label="DACH")
    first.get_by_label("Country is one of").fill("Germany, Austria, Switzerland")
    second.get_by_label("Name").fill("Everyone else")
    second.get_by_label("Team").select_option(label="World")
    page.get_by_label("What changed").fill("Territories")
    page.get_by_role("button", name="Publish").click()
    tab.check(shot="rules-published")
    assert "Routing rules v1 published" in page.content()
    assert list(RuleSet.current().rules.values_list("name", flat=True)) == ["DACH territory", "Everyone else"]

    # and previews where the Berlin lead would go, which changes nothing
    page.get_by_label("Lead").fill(berlin.email)
    page.get_by_role("button", name="Preview").click()
    tab.check(shot="preview")
    preview = page.locator(".routing-preview").inner_text()
    assert "matches rule 1, “DACH territory”" in preview and "Dora Deutsch" in preview
    assert not berlin.routing_decisions.exists()

    # Then marketing hands both leads off, and each goes to its territory's rep
    for lead in (berlin, tokyo):
        services.lead_hand_off(lead=lead, actor=marketer)
    berlin.refresh_from_db()
    tokyo.refresh_from_db()
    assert (berlin.owner, tokyo.owner) == (dach_rep, world_rep)

    # and the manager reads why, on the lead and in the routing log
    tab.visit(f"/leads/{berlin.pk}/", shot="lead")
    assert "by rule “DACH territory” (routing rules v1)" in page.content()
    tab.visit("/routing/log/", shot="log")
    page.get_by_text("Who was considered").first.click()
    assert "Taro Tokyo" in page.content() and "Bea Berlin" in page.content()


def test_a_part_timer_sets_their_hours_on_a_phone_and_routing_keeps_to_them(open_tab, manager):
    # Given a rep of a team that works around the clock
    rep = UserFactory(username="pat", first_name="Pat", last_name="Parttime", role=Role.SALES)
    team = SalesTeam.objects.create(name="Inside", auto_assign=True, calendar=around_the_clock())
    RepProfile.objects.create(user=rep, team=team)
    tab = open_tab(rep, viewport=PHONE)
    page = tab.page

    # When they open their hours from the Time off page and type an end before the start
    tab.visit("/routing/time-off/")
    page.get_by_role("link", name="your working hours").click()
    tab.check(shot="hours-empty")
    page.get_by_label("Monday from").fill("13:00")
    page.get_by_label("Monday until").fill("08:00")
    page.get_by_role("button", name="Save").click()

    # Then they are told, and nothing is saved
    tab.check(shot="hours-error")
    assert "Monday must end after it starts (13:00)." in page.content()
    assert not WorkingHours.objects.exists()

    # When they give mornings on Monday and Tuesday
    page.get_by_label("Monday from").fill("08:00")
    page.get_by_label("Monday until").fill("13:00")
    page.get_by_label("Tuesday from").fill("08:00")
    page.get_by_label("Tuesday until").fill("13:00")
    page.get_by_role("button", name="Save").click()

    # Then the hours are theirs, and the manager sees it beside the rep
    tab.check(shot="hours-saved")
    assert "routing gives leads only inside them" in page.content()
    assert sorted(WorkingHours.objects.filter(rep=rep).values_list("weekday", flat=True)) == [0, 1]
    boss = open_tab(manager)
    boss.visit("/routing/time-off/", shot="manager-reps")
    assert boss.page.get_by_role("link", name="own hours").count() == 1
