"""What a user can type never answers 500: dates out of the 1900–2999 range get a form error, and a
move posted on someone else's lead is refused, not shown again as a form."""

import pytest
from django.urls import reverse

from conftest import LeadFactory, advance
from leads.models import Deal, Lead

pytestmark = pytest.mark.django_db
OUT_OF_RANGE = ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"]


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_a_deals_expected_close_out_of_range_is_a_form_error(client, rep, marketer, campaign, day):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    before = Deal.objects.get(lead=lead).expected_close_date
    client.force_login(rep)

    response = client.post(reverse("leads:deal_edit", args=[lead.pk]), {"value": "10", "expected_close_date": day})

    assert response.status_code == 200 and "Pick a date between 1900 and 2999." in response.text
    assert Deal.objects.get(lead=lead).expected_close_date == before


@pytest.mark.parametrize("day", OUT_OF_RANGE)
@pytest.mark.parametrize("name", ["dashboard", "dashboard_leads", "reps.csv"])
def test_a_dashboard_period_out_of_range_is_a_form_error(client, manager, day, name):
    client.force_login(manager)
    url = reverse("dashboard_export", args=["reps"]) if name == "reps.csv" else reverse(name)
    response = client.get(url, {"period": "custom", "start": day, "end": day, "figure": "claims_late"})
    if name == "reps.csv":  # like the page, the export falls back to this month (it has no form to show)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    else:
        assert response.status_code == 200 and "Pick a date between 1900 and 2999." in response.text


@pytest.mark.parametrize("name", ["leads:first_contact", "leads:convert", "leads:return"])
def test_an_empty_post_on_another_reps_lead_is_refused(client, rep, other_rep, marketer, campaign, name):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    client.force_login(other_rep)

    response = client.post(reverse(name, args=[lead.pk]), {})

    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.CLAIMED, rep)
