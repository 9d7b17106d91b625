"""Money shows the installation's currency (settings.CURRENCY) and never wraps mid-figure."""

from decimal import Decimal

import pytest
from django.urls import reverse

from common.templatetags.money import money_text
from conftest import LeadFactory, advance
from leads.models import Deal, Lead


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (Decimal("12500.5"), "", "€12,500.50"),
        ("80", "GBP", "£80.00"),
        (Decimal("-1234"), "", "−€1,234.00"),
        (Decimal("1000"), "CHF", "CHF\u00a01,000.00"),
        (None, "", "–"),
    ],
)
def test_money_text(settings, value, currency, shown):
    settings.CURRENCY = "EUR"
    assert money_text(value, currency) == shown


def test_whole_units_for_columns(settings):
    settings.CURRENCY = "USD"
    assert money_text(Decimal("12500.49"), places=0) == "$12,500"


@pytest.mark.django_db
def test_a_deal_is_converted_in_the_installations_currency(client, settings, marketer, rep, campaign):
    """The convert form offers no currency to pick: the deal gets the setting's, and its page shows it."""
    settings.CURRENCY = "GBP"
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CONTACTED, marketer=marketer, rep=rep)
    client.force_login(rep)
    form = client.get(reverse("leads:convert", args=[lead.pk])).text
    assert "<select" not in form.split('name="currency"')[0][-200:]
    client.post(reverse("leads:convert", args=[lead.pk]), {"value": "2500", "currency": "USD", "stage": "qualified"})
    assert Deal.objects.get(lead=lead).currency == "GBP"
    assert "£2,500.00" in client.get(lead.get_absolute_url()).text


@pytest.mark.django_db
def test_campaign_figures_show_the_currency(client, settings, marketer, campaign):
    settings.CURRENCY = "EUR"
    client.force_login(marketer)
    assert "€5,000.00" in client.get(campaign.get_absolute_url()).text
    assert "€5,000" in client.get(reverse("campaigns:list")).text
