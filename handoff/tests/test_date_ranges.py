"""Dates and times people type stay within 1900–2999 in every form, the database refuses the rest,
and a lead page never breaks on the most extreme value that can be stored."""

import datetime
import zoneinfo

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from campaigns.forms import CampaignFilterForm, CampaignForm
from campaigns.views.leads import LeadFilterForm
from common.daterange import LATEST_STORED, OUT_OF_RANGE
from conftest import LeadFactory, advance
from leads.activities import activity_log
from leads.forms import ConvertForm
from leads.models import Activity, Lead
from leads.views.working import ActivityForm
from notifications.models import UserPreferences
from sla.views.calendars import HolidayForm

pytestmark = pytest.mark.django_db
S = Lead.Status


def campaign_data(**dates) -> dict:
    return {"name": "Spring", "channel": "email", "status": "active", "start_date": "2026-03-01", **dates}


@pytest.mark.parametrize(
    ("form_class", "data", "field"),
    [
        (ActivityForm, {"kind": "call", "next_step_at": "9999-12-31T23:59"}, "next_step_at"),
        (ActivityForm, {"kind": "call", "next_step_at": "0001-01-01T00:00"}, "next_step_at"),
        (
            ConvertForm,
            {"value": "10", "currency": "EUR", "stage": "qualified", "expected_close_date": "9999-12-31"},
            "expected_close_date",
        ),
        (CampaignForm, campaign_data(start_date="0001-01-01"), "start_date"),
        (CampaignForm, campaign_data(end_date="9999-12-31"), "end_date"),
        (CampaignFilterForm, {"date_from": "9999-12-31"}, "date_from"),
        (CampaignFilterForm, {"date_to": "0100-01-01"}, "date_to"),
        (LeadFilterForm, {"captured_from": "3000-01-01"}, "captured_from"),
        (HolidayForm, {"date": "9999-12-31", "name": "End of days"}, "date"),
    ],
)
def test_every_form_with_a_date_refuses_one_outside_the_range(marketer, form_class, data, field):
    """A date or time before 1900 or after 2999 is a clear error on its own field."""
    form = form_class(data)

    assert not form.is_valid()
    assert form.errors[field] == [OUT_OF_RANGE]


def test_a_next_step_at_the_end_of_time_in_a_zone_behind_utc_is_a_field_error_and_every_page_still_works(
    client, campaign, marketer, rep
):
    """Given a rep in Etc/GMT+12 (UTC−12), when they log a call with its next step on 9999-12-31 23:59
    (year 10000 in UTC), then the form says the date is out of range, nothing is stored, and the lead
    page and My leads still answer for them and for everyone else."""
    UserPreferences.objects.create(user=rep, time_zone="Etc/GMT+12")
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    client.force_login(rep)

    response = client.post(
        reverse("leads:log_activity", args=[lead.pk]), {"kind": "call", "next_step_at": "9999-12-31T23:59"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["next_step_at"] == [OUT_OF_RANGE]
    assert not Activity.objects.exists()
    assert client.get(reverse("leads:mine")).status_code == 200
    for user in (rep, marketer):
        client.force_login(user)
        assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200


def test_the_database_refuses_a_next_step_outside_the_range(campaign, marketer, rep):
    """Whatever writes it (admin, shell, a future form), an activity's next step in year 3000 is refused."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)

    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(lead=lead, rep=rep, kind="call", next_step_at=LATEST_STORED)


def test_the_latest_next_step_that_can_be_stored_renders_for_a_viewer_far_ahead_of_utc(client, campaign, marketer, rep):
    """The last moment the database accepts, shown to a rep in UTC+14 (Pacific/Kiritimati), is a date
    in year 3000 on the lead page and My leads, not a server error."""
    UserPreferences.objects.create(user=rep, time_zone="Pacific/Kiritimati")
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    latest = LATEST_STORED - datetime.timedelta(minutes=1)
    activity_log(lead=lead, rep=rep, kind="note", note="Far out", next_step_at=latest)
    client.force_login(rep)

    page = client.get(reverse("leads:detail", args=[lead.pk]))

    assert page.status_code == 200
    shown = timezone.localtime(latest, zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    assert f"next step {shown:%-d %b %Y %H:%M}" in page.content.decode()
    assert client.get(reverse("leads:mine")).status_code == 200
