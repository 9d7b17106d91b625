"""What every page relies on: the favicon, signing out, and the first intake token's wording."""

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from conftest import CampaignFactory

pytestmark = pytest.mark.django_db


def test_the_favicon_is_found_and_linked_from_every_page(client, marketer):
    """/favicon.ico (which browsers ask for on every page) leads to the icon, which exists, and pages link it."""
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == static("favicon.svg")
    assert finders.find("favicon.svg") is not None
    assert f'<link rel="icon" href="{static("favicon.svg")}"' in client.get(reverse("login")).content.decode()


def test_signing_out_says_so(client, marketer):
    """After "Sign out" the login page confirms it."""
    client.force_login(marketer)

    response = client.post(reverse("logout"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You are signed out." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_first_intake_token_does_not_speak_of_an_old_one(client, marketer):
    """A campaign's first token says where it goes; only a second one says the old one stopped working."""
    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    page = reverse("campaigns:intake_settings", args=[campaign.pk])

    first, second = client.post(page).content.decode(), client.post(page).content.decode()

    assert "The old token has stopped working" not in first
    assert "Authorization" in first
    assert "The old token has stopped working" in second
