"""Owner matching: a company's new lead goes to the rep who already works that company."""

import datetime

import pytest
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.models import Deal, Lead, RepProfile
from leads.tests.test_assignment import reps
from routing.companies import company_domain
from routing.services import rules_publish
from routing.tests.test_rules import hand_off, team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("email", "company"),
    [
        ("Ada@Orbital.io", "orbital.io"),
        ("ada@gmail.com", None),
        ("ada@GMX.de", None),
        ("ada@example.org", None),
        ("ada@shop.test", None),
    ],
)
def test_a_company_is_its_address_domain_unless_anyone_can_have_one(email, company):
    assert company_domain(email) == company


def orbital(campaign, marketer, name: str) -> Lead:
    return hand_off(campaign, marketer, email=f"{name}@orbital.io", company="Orbital")


def test_a_second_lead_of_a_company_goes_to_the_rep_who_works_the_first(manager, marketer, campaign):
    first_rep, second_rep = reps(2)
    team("Inside sales", first_rep, second_rep)
    rules_publish(actor=manager, rules=[], owner_match_days=90)
    first = orbital(campaign, marketer, "ada")
    assert first.owner == first_rep

    second = orbital(campaign, marketer, "grace")  # the turn is second_rep's, but Orbital is first_rep's

    assert second.owner == first_rep
    assert "who works this company (lead" in second.events.get(kind="assigned").note
    assert hand_off(campaign, marketer, email="lin@other.io").owner == second_rep


def test_a_recent_deal_keeps_the_company_and_an_old_one_does_not(manager, marketer, campaign):
    seller, other = reps(2)
    won = advance(
        LeadFactory(campaign=campaign, email="ceo@orbital.io"), Lead.Status.CONVERTED, marketer=marketer, rep=seller
    )
    team("Inside sales", seller, other)
    rules_publish(actor=manager, rules=[], owner_match_days=30)
    RepProfile.objects.filter(user=seller).update(routing_pass=5)  # far from their turn

    assert orbital(campaign, marketer, "cfo").owner == seller

    Deal.objects.filter(lead=won).update(created_at=timezone.now() - datetime.timedelta(days=31))
    Lead.objects.filter(owner=seller).exclude(pk=won.pk).update(status=Lead.Status.CONVERTED)  # nothing open now
    assert orbital(campaign, marketer, "cto").owner == other


def test_a_companys_rep_out_of_office_lets_the_turns_decide(manager, marketer, campaign):
    first_rep, second_rep = reps(2)
    team("Inside sales", first_rep, second_rep)
    rules_publish(actor=manager, rules=[], owner_match_days=90)
    assert orbital(campaign, marketer, "ada").owner == first_rep
    RepProfile.objects.filter(user=first_rep).update(is_away=True)

    lead = orbital(campaign, marketer, "grace")

    assert lead.owner == second_rep
    note = lead.events.get(kind="assigned").note
    assert "who works this company" not in note and "(not available)" in note


def test_owner_matching_off_is_off(manager, marketer, campaign):
    first_rep, second_rep = reps(2)
    team("Inside sales", first_rep, second_rep)
    rules_publish(actor=manager, rules=[], owner_match_days=0)
    orbital(campaign, marketer, "ada")
    assert orbital(campaign, marketer, "grace").owner == second_rep
