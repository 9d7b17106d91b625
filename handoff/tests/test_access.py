"""The access matrix: every page × (anonymous, marketer, rep, manager) gets the expected answer.

Anonymous users are sent to the login page; signed-in users without the role get 403.
"""

import pytest
from django.urls import reverse

from conftest import LeadFactory
from leads import services

ANON, MKT, REP, MGR = "anonymous", "marketer", "rep", "manager"
OK, DENIED = 200, 403

# page name -> expected status for (marketer, rep, manager)
MATRIX = {
    "home": (302, 302, 302),
    "campaigns:list": (OK, DENIED, OK),
    "campaigns:create": (OK, DENIED, OK),
    "campaigns:detail": (OK, DENIED, OK),
    "campaigns:edit": (OK, DENIED, OK),
    "campaigns:add_lead": (OK, DENIED, OK),
    "leads:queue": (DENIED, OK, OK),
    "leads:mine": (DENIED, OK, DENIED),
    "leads:detail": (OK, OK, OK),
    "leads:first_contact": (DENIED, OK, OK),
    "leads:convert": (DENIED, 302, 302),  # offered only once contacted: redirected to the lead page
    "leads:return": (DENIED, OK, OK),
    "leads:hand_off": (OK, DENIED, OK),
    "dashboard": (DENIED, DENIED, OK),
    "routing:time_off": (DENIED, OK, OK),
    "routing:log": (DENIED, DENIED, OK),
    "routing:rules": (DENIED, DENIED, OK),
    "no_role": (OK, OK, OK),
}


@pytest.fixture
def world(marketer, rep, manager, campaign):
    """A campaign with a lead the rep has claimed, and an MQL waiting to be handed off."""
    claimed = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=claimed, actor=marketer)
    services.lead_hand_off(lead=claimed, actor=marketer)
    services.lead_claim(lead=claimed, rep=rep)
    mql = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=mql, actor=marketer)
    return {"campaign": campaign, "claimed": claimed, "mql": mql, MKT: marketer, REP: rep, MGR: manager}


def url_for(name: str, world) -> str:
    if name.startswith("campaigns:") and name not in ("campaigns:list", "campaigns:create"):
        return reverse(name, args=[world["campaign"].pk])
    if name == "leads:hand_off":
        return reverse(name, args=[world["mql"].pk])
    if name.startswith("leads:") and name not in ("leads:queue", "leads:mine"):
        return reverse(name, args=[world["claimed"].pk])
    return reverse(name)


@pytest.mark.parametrize("page", MATRIX)
def test_anonymous_is_sent_to_login(client, world, page):
    """Every page but the login page asks an anonymous visitor to log in first."""
    url = url_for(page, world)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role_index,role", list(enumerate([MKT, REP, MGR])))
@pytest.mark.parametrize("page", MATRIX)
def test_each_role_gets_its_pages_and_403_elsewhere(client, world, page, role_index, role):
    client.force_login(world[role])
    response = client.get(url_for(page, world))
    assert response.status_code == MATRIX[page][role_index]


@pytest.mark.parametrize(
    "name,role,expected",
    [
        ("leads:claim", MKT, 403),
        ("leads:claim", MGR, 403),
        ("leads:qualify", REP, 403),
    ],
)
def test_actions_check_the_role_on_post(client, world, name, role, expected):
    """Posting straight to an action URL is refused server-side for the wrong role."""
    client.force_login(world[role])
    response = client.post(reverse(name, args=[world["mql"].pk]))
    assert response.status_code == expected


def test_claim_refuses_get(client, world):
    client.force_login(world[REP])
    assert client.get(reverse("leads:claim", args=[world["mql"].pk])).status_code == 405


def test_post_without_csrf_token_is_refused(world):
    """CSRF protection is on for state changes."""
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world[MKT])
    response = csrf_client.post(reverse("leads:qualify", args=[world["mql"].pk]))
    assert response.status_code == 403


def test_navigation_shows_each_role_its_own_pages(client, world):
    client.force_login(world[REP])
    html = client.get(reverse("leads:queue")).content.decode()
    assert reverse("leads:mine") in html
    assert reverse("campaigns:list") not in html
    assert reverse("dashboard") not in html

    client.force_login(world[MKT])
    html = client.get(reverse("campaigns:list")).content.decode()
    assert reverse("campaigns:list") in html
    assert reverse("leads:queue") not in html
