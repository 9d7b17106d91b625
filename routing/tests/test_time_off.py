"""Time off: each rep sets their own, managers anyone's; bad dates get a form error, never a 500."""

import datetime

import pytest
from django.urls import reverse

from routing.models import TimeOff

pytestmark = pytest.mark.django_db


def add(client, **fields):
    return client.post(reverse("routing:time_off"), {"starts_on": "2026-12-24", "ends_on": "2026-12-31", **fields})


def test_a_rep_adds_and_removes_their_own_days_off(client, rep):
    client.force_login(rep)
    response = add(client, note="Holidays")
    assert response.status_code == 302
    days = TimeOff.objects.get()
    assert (days.rep, days.created_by, days.starts_on, days.note) == (rep, rep, datetime.date(2026, 12, 24), "Holidays")
    assert "Holidays" in client.get(reverse("routing:time_off")).text

    client.post(reverse("routing:time_off_remove", args=[days.pk]))
    assert not TimeOff.objects.exists()


def test_a_rep_never_sees_nor_removes_anothers_days_off(client, rep, other_rep):
    other = TimeOff.objects.create(
        rep=other_rep,
        starts_on=datetime.date(2030, 1, 1),
        ends_on=datetime.date(2030, 1, 2),
        note="Secret",
        created_by=other_rep,
    )
    client.force_login(rep)
    assert "Secret" not in client.get(reverse("routing:time_off")).text
    assert client.post(reverse("routing:time_off_remove", args=[other.pk])).status_code == 404
    assert TimeOff.objects.filter(pk=other.pk).exists()
    add(client, rep=other_rep.pk)  # a rep cannot name someone else: the field is not theirs
    assert TimeOff.objects.get(created_by=rep).rep == rep


def test_a_manager_sets_a_reps_days_off(client, manager, rep):
    client.force_login(manager)
    add(client, rep=rep.pk, note="Sick")
    assert TimeOff.objects.get().rep == rep
    assert (
        "on shift" in client.get(reverse("routing:time_off")).text
        or "No team assigns" in client.get(reverse("routing:time_off")).text
    )


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "error"),
    [
        ("2026-12-31", "2026-12-24", "can&#x27;t be before the first"),
        ("9999-12-31", "9999-12-31", "between"),
        ("0001-01-01", "2026-01-01", "between"),
        ("someday", "2026-01-01", "Enter a valid date"),
    ],
)
def test_bad_dates_get_a_clear_error_and_save_nothing(client, rep, starts_on, ends_on, error):
    client.force_login(rep)
    response = add(client, starts_on=starts_on, ends_on=ends_on)
    assert response.status_code == 200 and error in response.text
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize("who", ["marketer"])
def test_marketers_have_no_time_off_page(client, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("routing:time_off")).status_code == 403
