"""SLA clocks on the pages: the server's text (the no-JS fallback) in the same words as the live
countdown script, the due instant for the script in UTC, the local due time in the title, and no
countdown for a paused clock."""

import datetime
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.models import Lead
from notifications.models import UserPreferences
from sla.models import Deadline
from sla.templatetags.sla import time_left, urgency, utc_iso

MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("from_now", "text", "colour"),
    [
        (125 * MINUTE + 30 * SECOND, "2 h 05 min left", "success"),
        (59 * MINUTE + 59 * SECOND, "59 min left", "warning"),
        (26 * 60 * MINUTE + 30 * SECOND, "1 d 2 h left", "success"),
        (-(3 * MINUTE + 10 * SECOND), "late by 3 min", "danger"),
        (-(61 * MINUTE + 5 * SECOND), "late by 1 h 01 min", "danger"),
    ],
)
def test_time_left_words_and_colours_match_the_countdown_script(from_now, text, colour):
    due_at = timezone.now() + from_now
    assert time_left(due_at) == text
    assert urgency(due_at) == colour


def test_the_due_instant_is_given_to_the_script_in_utc():
    due_at = datetime.datetime(2026, 3, 2, 15, 5, 9, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert utc_iso(due_at) == "2026-03-02T14:05:09Z"
    assert utc_iso(None) == ""


def claimed_lead(marketer, rep, campaign) -> Lead:
    return advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)


@pytest.mark.django_db
def test_a_running_deadline_carries_its_due_instant_and_local_due_time(client, marketer, rep, campaign):
    """The rep reads times in New York: the title shows the due time there; the script gets UTC."""
    UserPreferences.objects.create(user=rep, time_zone="America/New_York")
    lead = claimed_lead(marketer, rep, campaign)
    contact = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
    client.force_login(rep)

    html = client.get(lead.get_absolute_url()).content.decode()

    badge = re.search(r'<span class="badge text-bg-\w+" data-due="([^"]+)" title="Due ([^"]+)">([^<]+)</span>', html)
    assert badge, html
    assert badge.group(1) == contact.due_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new_york = contact.due_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert badge.group(2) == f"{new_york.day} {new_york:%b %Y %H:%M} {new_york.tzname()}"
    assert badge.group(3).endswith(" left")


@pytest.mark.django_db
def test_a_paused_deadline_shows_paused_and_no_countdown(client, marketer, rep, campaign):
    lead = claimed_lead(marketer, rep, campaign)
    Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).update(paused_at=timezone.now())
    client.force_login(rep)

    html = client.get(lead.get_absolute_url()).content.decode()

    assert ">paused</span>" in html
    assert "data-due=" not in html


@pytest.mark.django_db
def test_the_countdown_script_is_our_own_file_loaded_deferred_and_no_script_is_inline(client, manager):
    client.force_login(manager)
    html = client.get(reverse("dashboard")).content.decode()
    assert '<script src="/static/js/countdown.js" defer></script>' in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
