"""One date format everywhere (issue 23): templates name Django's formats (handoff/formats/en_GB) and
never spell one of their own; pages, Python-written notes and the Locked logins page all read alike."""

import datetime
import re
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone

from common.localtime import day_text, moment_text
from conftest import LeadFactory, advance
from leads.deals import deal_edit
from leads.models import Deal, Lead, LeadEvent

TEMPLATES = Path(settings.BASE_DIR) / "templates"
NAMED = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "TIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
}
# Values for machines, not people, and only inside an attribute: a month in a URL or data-month, an
# <input type="time">'s value, a <time datetime="…">.
MACHINE = {"Y-m", "H:i", "c"}
# A zone's name is not a date format: "Local days in Europe/Berlin".
ZONE_NAME = {"e"}
EXPRESSION = re.compile(r"""\{\{[^}]*?\|(?:date|time):(["'])(?P<format>[^"']*)\1[^}]*\}\}""")
IN_ATTRIBUTE = re.compile(r"""(?:=["']?|[?&][a-z_]+=)$""")
# What a stray format used to look like on a page: "2026-11-30 10:00", "7 Dec 2026, 5:47 a.m.".
STRAY_ON_PAGE = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b|\b\d{1,2}:\d{2} [ap]\.m\.")


def stray_formats() -> list[str]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text()
        for match in EXPRESSION.finditer(text):
            fmt = match["format"]
            if fmt in NAMED or fmt in ZONE_NAME:
                continue
            if fmt in MACHINE and IN_ATTRIBUTE.search(text[: match.start()]):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{name}:{line}: {match.group(0)}")
    return found


def test_templates_name_the_formats_instead_of_spelling_their_own():
    assert stray_formats() == []


def test_the_stray_check_catches_a_hand_written_format(tmp_path, monkeypatch):
    """The walk above can fail: a template with its own format, even in single quotes, is reported."""
    (tmp_path / "leads").mkdir()
    (tmp_path / "leads" / "bad.html").write_text(
        """<p>{{ lead.created_at|date:"Y-m-d H:i" }}</p><p title="{{ x|date:'j M' }}"></p>"""
        """<a href="?month={{ month|date:'Y-m' }}">{{ month|date:"YEAR_MONTH_FORMAT" }}</a>"""
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["TEMPLATES"]), "TEMPLATES", tmp_path)
    assert [line.split(": ", 1)[1] for line in stray_formats()] == [
        '{{ lead.created_at|date:"Y-m-d H:i" }}',
        "{{ x|date:'j M' }}",
    ]


def test_the_named_formats_read_as_the_issue_asks():
    moment = timezone.make_aware(datetime.datetime(2026, 12, 7, 5, 47), timezone.get_fixed_timezone(60))
    with timezone.override("Europe/Berlin"):
        local = timezone.localtime(moment)
        assert formats.date_format(local, "DATETIME_FORMAT") == "7 Dec 2026 05:47 CET"
        assert moment_text(moment) == "7 Dec 2026 05:47 CET"
    assert formats.date_format(local, "DATE_FORMAT") == day_text(local.date()) == "7 Dec 2026"
    assert formats.time_format(local, "TIME_FORMAT") == "05:47"
    assert formats.date_format(local, "SHORT_DATETIME_FORMAT") == "Mon 7 Dec 05:47"


@pytest.mark.django_db
def test_the_locked_logins_page_writes_times_like_every_other(client, rep, manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": "rep", "password": "wrong"}, REMOTE_ADDR="10.0.9.1")
    client.force_login(manager)
    page = client.get(reverse("login_lockouts")).text
    assert "<code>10.0.9.1</code>" in page
    assert not STRAY_ON_PAGE.search(page), STRAY_ON_PAGE.search(page)
    assert re.search(r"<td>\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} [A-Z+0-9]+</td>", page)


@pytest.mark.django_db
def test_a_timeline_note_and_the_lead_page_write_dates_alike(client, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    deal = Deal.objects.get(lead=lead)
    deal_edit(deal=deal, actor=rep, value=deal.value, expected_close_date=datetime.date(2026, 11, 30))
    note = lead.events.get(kind=LeadEvent.Kind.DEAL_UPDATED).note
    assert note == "Expected close none → 30 Nov 2026"
    client.force_login(rep)
    page = client.get(lead.get_absolute_url()).text
    assert "30 Nov 2026" in page
    assert not STRAY_ON_PAGE.search(page), STRAY_ON_PAGE.search(page)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "UTC"])
def test_times_written_by_the_database_read_like_the_pages(zone):
    """The breach notices (SQL, handoff_local_time) and the sweep's notes (SQL_MOMENT_FORMAT) write a
    moment as moment_text does, in winter and summer, single- and double-digit days."""
    from django.db import connection

    from common.localtime import SQL_MOMENT_FORMAT

    place = zoneinfo.ZoneInfo(zone)
    for moment in (
        datetime.datetime(2026, 1, 5, 20, 7, tzinfo=datetime.UTC),
        datetime.datetime(2026, 7, 15, 9, 30, tzinfo=datetime.UTC),
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT handoff_local_time(%s, %s), to_char(%s AT TIME ZONE %s, %s)",
                [moment, zone, moment, zone, SQL_MOMENT_FORMAT],
            )
            with_zone, without_zone = cursor.fetchone()
        assert with_zone == moment_text(moment, place)
        assert without_zone == formats.date_format(timezone.localtime(moment, place), "j M Y H:i")
