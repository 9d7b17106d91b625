"""Managers keep the calendars in Handoff's own pages: only they get in, bad input comes back as form
errors (never a 500), and what they save is what the SLA clocks count in."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from sla.models import BusinessCalendar, CalendarHoliday
from sla.models.calendars import team_model

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def form_data(**overrides) -> dict:
    data = {
        "name": "Support desk",
        "time_zone": "America/New_York",
        "country": "us",
        "subdivision": "",
        **{f"hours_{weekday}": "08:00-12:00, 13:00-17:30" for weekday in range(5)},
        "hours_5": "",
        "hours_6": "",
    }
    return {**data, **overrides}


@pytest.mark.parametrize("name", ["calendars", "calendar_create"])
def test_only_managers_reach_the_calendar_pages(client, marketer, rep, manager, name):
    """Anonymous users are sent to log in, marketers and reps get 403, managers get the page."""
    url = reverse(name)
    assert client.get(url).status_code == 302
    assert signed_in(client, marketer).get(url).status_code == 403
    assert signed_in(client, rep).get(url).status_code == 403
    assert signed_in(client, manager).get(url).status_code == 200


def test_reps_cannot_change_a_calendar_or_its_holidays(client, rep):
    """Every write is refused to a rep, and nothing changes."""
    calendar = BusinessCalendar.objects.get(is_default=True)
    holiday = CalendarHoliday.objects.create(calendar=calendar, date=date(2030, 1, 2), name="Closed")
    signed_in(client, rep)

    assert client.post(reverse("calendar_edit", args=[calendar.pk]), form_data()).status_code == 403
    assert client.post(reverse("calendar_holiday_add", args=[calendar.pk]), {}).status_code == 403
    assert client.post(reverse("calendar_holiday_remove", args=[calendar.pk, holiday.pk])).status_code == 403
    assert BusinessCalendar.objects.get(pk=calendar.pk).name == "Head office"
    assert CalendarHoliday.objects.filter(pk=holiday.pk).exists()


def test_a_manager_creates_a_calendar_with_a_lunch_break_for_a_team(client, manager):
    """A new calendar is saved with each weekday's intervals, the country code upper-cased, and the
    chosen team switched to it; the list shows it."""
    team = team_model().objects.create(name="East coast")
    signed_in(client, manager)

    response = client.post(reverse("calendar_create"), form_data(teams=[team.pk]))

    calendar = BusinessCalendar.objects.get(name="Support desk")
    assert response.status_code == 302
    assert response["Location"] == reverse("calendar_edit", args=[calendar.pk])
    assert (calendar.time_zone, calendar.country, calendar.is_default) == ("America/New_York", "US", False)
    assert calendar.weekly_hours()[0] == [(time(8), time(12)), (time(13), time(17, 30))]
    assert set(calendar.weekly_hours()) == {0, 1, 2, 3, 4}
    team.refresh_from_db()
    assert team.calendar == calendar
    page = client.get(reverse("calendars")).content.decode()
    assert "Support desk" in page and "13:00–17:30" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({f"hours_{weekday}": "" for weekday in range(7)}, None, "needs open hours on at least one day"),
        ({"hours_0": "17:00-09:00"}, "hours_0", "closing time must be after opening time"),
        ({"hours_1": "09:00-13:00, 12:00-17:00"}, "hours_1", "overlap"),
        ({"hours_2": "nine to five"}, "hours_2", "is not an interval like 09:00-17:00"),
        ({"hours_3": "09:00-25:00"}, "hours_3", "is not a time of day"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "is not a time zone"),
        ({"country": "XX"}, "country", "is not a country code"),
        ({"country": "DE", "subdivision": "ZZ"}, "country", "is not a subdivision of DE"),
        ({"country": "DEU"}, "country", "at most 2 characters"),
        ({"name": "Head office"}, "name", "already exists"),
    ],
)
def test_bad_input_comes_back_as_form_errors(client, manager, overrides, field, message):
    """Each mistake is named on the form (status 200, not 500), what was typed stays, nothing is saved."""
    signed_in(client, manager)
    data = form_data(**overrides)

    response = client.post(reverse("calendar_create"), data)

    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field or "__all__", [])
    assert any(message in error for error in errors), form.errors
    assert form["hours_0"].value() == data["hours_0"]
    assert not BusinessCalendar.objects.filter(name="Support desk").exists()


def test_making_a_calendar_the_default_takes_the_flag_from_the_old_one(client, manager):
    """There is exactly one default: a new default replaces the old, and the last default cannot simply
    be switched off."""
    head_office = BusinessCalendar.objects.get(is_default=True)
    signed_in(client, manager)

    client.post(reverse("calendar_create"), form_data(is_default="on"))

    assert list(BusinessCalendar.objects.filter(is_default=True).values_list("name", flat=True)) == ["Support desk"]
    support = BusinessCalendar.objects.get(name="Support desk")
    response = client.post(reverse("calendar_edit", args=[support.pk]), form_data())
    assert response.status_code == 200
    assert "make another one the default" in response.content.decode()
    assert BusinessCalendar.objects.get(pk=support.pk).is_default
    assert not BusinessCalendar.objects.get(pk=head_office.pk).is_default


def test_a_manager_adds_and_removes_a_holiday_and_sees_the_public_ones_ahead(client, manager):
    """An added date is listed and closes the calendar; adding it twice is refused on the form; removing
    it reopens the day. The page lists the next ten German public holidays on open days."""
    calendar = BusinessCalendar.objects.get(is_default=True)
    day = timezone.localdate() + timedelta(days=30)
    signed_in(client, manager)
    add = reverse("calendar_holiday_add", args=[calendar.pk])

    response = client.post(add, {"holiday-date": day.isoformat(), "holiday-name": "Company day"})
    assert response.status_code == 302
    holiday = CalendarHoliday.objects.get(calendar=calendar, date=day)
    assert day in BusinessCalendar.objects.with_hours().get(pk=calendar.pk).spec().holidays

    again = client.post(add, {"holiday-date": day.isoformat(), "holiday-name": "Twice"})
    assert again.status_code == 200
    assert "already a holiday" in again.content.decode()
    bad = client.post(add, {"holiday-date": "31.02.", "holiday-name": ""})
    assert bad.status_code == 200
    assert set(bad.context["holiday_form"].errors) == {"date", "name"}

    page = client.get(reverse("calendar_edit", args=[calendar.pk]))
    upcoming = page.context["upcoming_public_holidays"]
    assert len(upcoming) == 10
    assert all(when >= timezone.localdate() and when.weekday() < 5 for when, _ in upcoming)
    assert "Company day" in page.content.decode()

    client.post(reverse("calendar_holiday_remove", args=[calendar.pk, holiday.pk]))
    assert not CalendarHoliday.objects.filter(pk=holiday.pk).exists()


def test_the_calendar_pages_cost_the_same_queries_with_more_calendars(client, manager, django_assert_max_num_queries):
    """The list page's queries do not grow with the number of calendars."""
    signed_in(client, manager)
    client.get(reverse("calendars"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("calendars"))
    for number in range(10):
        BusinessCalendar.objects.create(name=f"Calendar {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("calendars"))
