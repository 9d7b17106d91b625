"""The time zone picker in a real browser: grouped by region, searchable, saved."""

import pytest

from notifications.models import UserPreferences

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rep_finds_their_time_zone_by_typing_part_of_it(open_tab, rep):
    tab = open_tab(rep)
    page = tab.visit("/preferences/", shot="preferences")
    picker = page.get_by_role("listbox", name="Time zone")
    assert picker.locator("optgroup[label=Europe] option[value='Europe/Berlin']").count() == 1

    page.get_by_label("Search time zones").fill("new york")
    assert picker.input_value() == "America/New_York"
    assert picker.locator("option:not([hidden])").all_inner_texts() == ["America/New York"]
    tab.check(shot="preferences-search")

    page.get_by_role("button", name="Save").click()
    tab.check()
    assert "Your preferences are saved." in page.content()
    assert UserPreferences.objects.get(user=rep).time_zone == "America/New_York"
