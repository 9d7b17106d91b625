"""Next steps that can't slip: My leads flags contacted leads with nothing planned, groups overdue
next steps, and logs a call, email or meeting with its next step from the row."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.activities import activity_log
from leads.models import Activity, Lead

S = Lead.Status


@pytest.fixture
def contacted(campaign, marketer, rep):
    return advance(LeadFactory(campaign=campaign, full_name="Carla Contacted"), S.CONTACTED, marketer=marketer, rep=rep)


def my_leads(client, rep) -> str:
    client.force_login(rep)
    return client.get(reverse("leads:mine")).content.decode()


def test_a_contacted_lead_with_nothing_planned_is_flagged(client, rep, contacted):
    html = my_leads(client, rep)
    assert 'id="group-no_next_step"' in html
    assert '<span class="badge text-bg-warning">No next step</span>' in html
    assert 'text-bg-warning" data-count="no_next_step">1<' in html


def test_a_next_step_before_today_is_in_overdue_next_steps(client, rep, contacted):
    activity_log(
        lead=contacted, rep=rep, kind=Activity.Kind.CALL, next_step_at=timezone.now() + datetime.timedelta(hours=1)
    )
    Lead.objects.filter(pk=contacted.pk).update(next_step_at=timezone.now() - datetime.timedelta(days=2))
    html = my_leads(client, rep)
    assert 'text-bg-danger" data-count="overdue_next_step">1<' in html
    assert "Overdue next steps" in html
    assert '<span class="badge text-bg-danger">overdue</span>' in html


def test_logging_a_call_from_my_leads_sets_the_next_step_and_comes_back(client, rep, contacted):
    html = my_leads(client, rep)
    assert f'action="{reverse("leads:log_activity", args=[contacted.pk])}"' in html
    assert f'id="log-{contacted.pk}-next_step_at"' in html
    next_step = timezone.localtime() + datetime.timedelta(days=3)

    response = client.post(
        reverse("leads:log_activity", args=[contacted.pk]),
        {
            "kind": "call",
            "outcome": "Reached",
            "next_step_at": next_step.strftime("%Y-%m-%dT%H:%M"),
            "next": reverse("leads:mine"),
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("leads:mine")
    contacted.refresh_from_db()
    assert contacted.next_step_at == next_step.replace(second=0, microsecond=0)
    assert Activity.objects.get(lead=contacted).outcome == "Reached"
    html = client.get(reverse("leads:mine")).content.decode()
    assert "Call logged." in html
    assert 'data-count="no_next_step">0<' in html and 'data-count="later">1<' in html


def test_the_first_call_on_a_claimed_lead_from_my_leads_is_its_first_contact(client, campaign, marketer, rep):
    claimed = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    client.force_login(rep)
    response = client.post(
        reverse("leads:log_activity", args=[claimed.pk]),
        {"kind": "meeting", "next": reverse("leads:mine")},
        follow=True,
    )
    assert "That was the first contact: the clock has stopped." in response.content.decode()
    claimed.refresh_from_db()
    assert claimed.status == S.CONTACTED


@pytest.mark.parametrize(
    "next_step_at,says",
    [
        ("2001-01-01T10:00", "The next step is in the past"),
        ("9999-12-31T23:59", "between"),
        ("tomorrow", "Enter a valid date/time."),
    ],
)
def test_a_bad_next_step_is_said_in_plain_words_with_the_input_kept(client, rep, contacted, next_step_at, says):
    client.force_login(rep)
    response = client.post(
        reverse("leads:log_activity", args=[contacted.pk]),
        {"kind": "call", "outcome": "Voicemail", "next_step_at": next_step_at, "next": reverse("leads:mine")},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert says in html
    assert 'value="Voicemail"' in html
    assert f'name="next" value="{reverse("leads:mine")}"' in html
    assert not Activity.objects.filter(lead=contacted).exists()


def test_a_next_that_leaves_the_site_is_ignored(client, rep, contacted):
    client.force_login(rep)
    response = client.post(
        reverse("leads:log_activity", args=[contacted.pk]), {"kind": "email", "next": "https://evil.example/"}
    )
    assert response["Location"] == contacted.get_absolute_url()


def test_another_reps_lead_cannot_be_logged_from_a_forged_row(client, other_rep, contacted):
    client.force_login(other_rep)
    response = client.post(reverse("leads:log_activity", args=[contacted.pk]), {"kind": "call"})
    assert response.status_code == 403
    assert not Activity.objects.filter(lead=contacted).exists()
