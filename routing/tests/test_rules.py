"""Routing rules: first match wins, versions are published, bad rules are refused, a preview changes nothing."""

import pytest
from django.urls import reverse

from campaigns.capture import LeadData, lead_capture
from campaigns.imports import parse
from conftest import LeadFactory, advance, around_the_clock
from leads import services
from leads.models import Lead, RepProfile, SalesTeam
from leads.tests.test_assignment import reps
from routing.models import RoutingDecision, RoutingRule, RuleSet
from routing.services import rules_publish

pytestmark = pytest.mark.django_db


def team(name: str, *members) -> SalesTeam:
    made = SalesTeam.objects.create(name=name, auto_assign=True, calendar=around_the_clock())
    for rep in members:
        RepProfile.objects.update_or_create(user=rep, defaults={"team": made})
    return made


def hand_off(campaign, marketer, **fields) -> Lead:
    lead = advance(LeadFactory(campaign=campaign, **fields), Lead.Status.MQL, marketer=marketer, rep=None)
    services.lead_hand_off(lead=lead, actor=marketer)
    lead.refresh_from_db()
    return lead


def rule(name, team, **conditions) -> dict:
    return {
        "name": name,
        "campaign": None,
        "channel": "",
        "source": "",
        "tier": "",
        "min_company_size": None,
        "max_company_size": None,
        "title_words": "",
        "company_words": "",
        "team": team,
        "rep": None,
        **conditions,
    }


def test_the_first_matching_rule_picks_the_team_and_the_record_names_it(manager, marketer, campaign):
    big, small = reps(2)
    enterprise, inside = team("Enterprise", big), team("Inside sales", small)
    rules_publish(
        actor=manager,
        rules=[
            rule("Enterprise", enterprise, min_company_size=500),
            rule("Engineers", enterprise, title_words="engineer, cto"),
            rule("Everyone else", inside),
        ],
    )

    large = hand_off(campaign, marketer, company_size=800)
    cto = hand_off(campaign, marketer, company_size=20, job_title="CTO")
    rest = hand_off(campaign, marketer, company_size=20, job_title="Buyer")

    assert (large.owner, cto.owner, rest.owner) == (big, big, small)
    decision = RoutingDecision.objects.get(lead=cto)
    assert (decision.rule.name, decision.rule.ruleset.version) == ("Engineers", 1)
    assert "by rule “Engineers” (routing rules v1)" in cto.events.get(kind="assigned").note


def test_a_named_rep_gets_their_leads_and_the_team_covers_when_they_are_away(manager, marketer, campaign):
    named, colleague = reps(2)
    accounts = team("Key accounts", named, colleague)
    rules_publish(actor=manager, rules=[rule("Orbital", accounts, company_words="orbital", rep=named)])

    assert hand_off(campaign, marketer, company="Orbital Systems").owner == named
    assert hand_off(campaign, marketer, company="Orbital Labs").owner == named  # still theirs, not a turn
    RepProfile.objects.filter(user=named).update(is_away=True)
    assert hand_off(campaign, marketer, company="Orbital AG").owner == colleague


def test_a_lead_no_rule_matches_takes_the_turns_of_every_automatic_team(manager, marketer, campaign):
    only = reps(1)[0]
    team("Anyone", only)
    rules_publish(actor=manager, rules=[rule("Hot only", team("Nobody here"), tier="hot")])

    lead = hand_off(campaign, marketer, score=10)

    assert lead.owner == only
    assert RoutingDecision.objects.get(lead=lead).rule is None


class TestThePage:
    def form(self, rules, note="") -> dict:
        data = {"form-TOTAL_FORMS": str(len(rules)), "form-INITIAL_FORMS": "0", "note": note}
        for index, fields in enumerate(rules):
            for name, value in fields.items():
                data[f"form-{index}-{name}"] = "" if value is None else getattr(value, "pk", value)
        return data

    def test_a_manager_publishes_a_new_version(self, client, manager):
        inside = team("Inside sales")
        client.force_login(manager)
        response = client.post(reverse("routing:rules"), self.form([rule("Default", inside)], note="First rules"))
        assert response.status_code == 302
        client.post(reverse("routing:rules"), self.form([rule("Small firms", inside, max_company_size=50)]))

        assert list(RuleSet.objects.values_list("version", "note")) == [(2, ""), (1, "First rules")]
        assert RuleSet.current().rules.get().name == "Small firms"
        assert "Small firms" in client.get(reverse("routing:rules")).text

    @pytest.mark.parametrize(
        ("rules", "error"),
        [
            (lambda t: [rule("Any", t), rule("Big", t, min_company_size=100)], "Never matches: rule 1 (no conditions)"),
            (lambda t: [rule("Odd", t, min_company_size=100, max_company_size=10)], "Never matches: no company has"),
            (lambda t: [rule("", t, tier="hot")], "Name the rule"),
            (lambda t: [rule("No team", None, tier="hot")], "Say which team"),
        ],
    )
    def test_bad_rules_get_a_clear_error_and_publish_nothing(self, client, manager, rules, error):
        inside = team("Inside sales")
        client.force_login(manager)
        response = client.post(reverse("routing:rules"), self.form(rules(inside)))
        assert response.status_code == 200 and error in response.text
        assert not RuleSet.objects.exists()

    def test_a_named_rep_must_be_in_the_rules_team(self, client, manager, rep):
        client.force_login(manager)
        response = client.post(reverse("routing:rules"), self.form([rule("Mine", team("Empty"), rep=rep)]))
        assert "is not in Empty" in response.text
        assert not RoutingRule.objects.exists()

    def test_the_preview_says_where_a_lead_would_go_and_changes_nothing(self, client, manager, marketer, campaign):
        [only] = reps(1)
        team("Anyone", only)
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.MQL, marketer=marketer, rep=None)
        before = RepProfile.objects.get(user=only).routing_pass
        client.force_login(manager)

        page = client.get(reverse("routing:rules"), {"lead": lead.email}).text

        assert "Now it would go to" in page and only.get_full_name() in page and "Nothing was changed" in page
        assert not RoutingDecision.objects.exists()
        assert RepProfile.objects.get(user=only).routing_pass == before
        assert (
            "No lead “nobody@example.org”" in client.get(reverse("routing:rules"), {"lead": "nobody@example.org"}).text
        )

    @pytest.mark.parametrize("who", ["rep", "marketer"])
    def test_only_managers_see_the_rules(self, client, who, request):
        client.force_login(request.getfixturevalue(who))
        assert client.get(reverse("routing:rules")).status_code == 403


def test_the_page_offers_the_rules_in_force_to_edit_and_publishing_them_unchanged_keeps_them(client, manager):
    inside = team("Inside sales")
    rules_publish(actor=manager, rules=[rule("Small firms", inside, max_company_size=50), rule("Rest", inside)])
    client.force_login(manager)
    formset = client.get(reverse("routing:rules")).context["formset"]
    data = {"form-TOTAL_FORMS": str(len(formset.forms)), "form-INITIAL_FORMS": str(formset.initial_form_count())}
    for index, form in enumerate(formset.forms):
        for name, value in (form.initial or {}).items():
            data[f"form-{index}-{name}"] = "" if value is None else getattr(value, "pk", value)

    client.post(reverse("routing:rules"), data)

    assert list(RuleSet.current().rules.values_list("position", "name", "max_company_size")) == [
        (1, "Small firms", 50),
        (2, "Rest", None),
    ]
    assert RuleSet.current().version == 2


def test_a_territory_is_a_rule_on_the_country_however_it_was_captured(client, manager, marketer, campaign):
    """A country given on the form, in a CSV column or to web intake routes the same way."""
    dach_rep, world_rep = reps(2)
    dach, world = team("DACH", dach_rep), team("World", world_rep)
    rules_publish(
        actor=manager, rules=[rule("DACH", dach, countries="Germany, Austria, Switzerland, DE"), rule("World", world)]
    )
    by_hand = lead_capture(
        campaign=campaign, actor=marketer, data=LeadData(full_name="Ada", email="ada@orbit.de", country=" germany ")
    ).lead
    parsed = parse(b"name,email,country\nLin,lin@far.cn,China\n")
    from_file = lead_capture(campaign=campaign, actor=marketer, data=parsed.valid_leads[0]).lead
    for lead in (by_hand, from_file):
        advance(lead, Lead.Status.MQL, marketer=marketer, rep=None)
        services.lead_hand_off(lead=lead, actor=marketer)
        lead.refresh_from_db()

    assert (by_hand.country, by_hand.owner) == ("germany", dach_rep)
    assert (from_file.country, from_file.owner) == ("China", world_rep)


@pytest.mark.parametrize(("typed", "days"), [("²", 90), ("99999999999999999999", 3650), ("-3", 90), ("abc", 90)])
def test_whatever_is_typed_into_the_preview_or_the_days_never_answers_500(client, manager, typed, days):
    client.force_login(manager)
    assert client.get(reverse("routing:rules"), {"lead": typed}).status_code == 200
    response = client.post(
        reverse("routing:rules"), {"form-TOTAL_FORMS": "0", "form-INITIAL_FORMS": "0", "owner_match_days": typed}
    )
    assert response.status_code == 302
    assert RuleSet.current().owner_match_days == days  # not a number: the default, not "off"; at most ten years
