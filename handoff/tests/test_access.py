"""The access matrix: every page and every API endpoint × (anonymous, marketer, rep, manager) gets the
expected answer.

Anonymous users are sent to the login page (the API answers 401); signed-in users without the role get 403.
"""

import pytest
import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from api.tokens import token_issue
from conftest import LeadFactory, advance
from leads import services
from leads.models import Lead

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
    "leads:search": (OK, OK, OK),
    "leads:detail": (OK, OK, OK),
    "leads:first_contact": (DENIED, OK, OK),
    "leads:convert": (DENIED, 302, 302),  # offered only once contacted: redirected to the lead page
    "leads:return": (DENIED, OK, OK),
    "leads:hand_off": (OK, DENIED, OK),
    "dashboard": (DENIED, DENIED, OK),
    "dashboard_table": (DENIED, DENIED, OK),
    "routing:time_off": (DENIED, OK, OK),
    "routing:log": (DENIED, DENIED, OK),
    "routing:rules": (DENIED, DENIED, OK),
    "no_role": (OK, OK, OK),
    "api:tokens": (OK, OK, OK),
    "api:docs": (OK, OK, OK),
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
    if name == "dashboard_table":
        return reverse(name, args=["reps"])
    if name == "leads:hand_off":
        return reverse(name, args=[world["mql"].pk])
    if name.startswith("leads:") and name not in ("leads:queue", "leads:mine", "leads:search"):
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


# API operation (the schema's operationId; ":" and a word tell apart two requests to one operation)
# -> (method, path with {lead}, {waiting}, {campaign}, {deal}, {rep} filled in, JSON body,
#     expected status for (marketer, rep, manager)).
API_MATRIX = {
    "leads_list": ("get", "/api/v1/leads/", None, (200, 200, 200)),
    "leads_create": (
        "post",
        "/api/v1/leads/",
        {"campaign": "{campaign}", "full_name": "Ada", "email": "a@b.org"},
        (201, 403, 201),
    ),
    "leads_retrieve": ("get", "/api/v1/leads/{lead}/", None, (200, 200, 200)),
    "leads_partial_update": (
        "patch",
        "/api/v1/leads/{lead}/",
        {"score": 30, "reason": "Met at a fair"},
        (200, 403, 200),
    ),
    "leads_moves_create": ("post", "/api/v1/leads/{lead}/moves/", {"move": "qualify"}, (200, 403, 200)),
    "leads_moves_create:claim": ("post", "/api/v1/leads/{waiting}/moves/", {"move": "claim"}, (403, 200, 403)),
    "leads_assignment_create": ("post", "/api/v1/leads/{waiting}/assignment/", {"rep": "{rep}"}, (403, 403, 200)),
    "campaigns_list": ("get", "/api/v1/campaigns/", None, (200, 403, 200)),
    "campaigns_create": (
        "post",
        "/api/v1/campaigns/",
        {"name": "Fair", "channel": "event", "status": "planned", "start_date": "2027-01-04", "budget": "0"},
        (201, 403, 201),
    ),
    "campaigns_retrieve": ("get", "/api/v1/campaigns/{campaign}/", None, (200, 403, 200)),
    "campaigns_partial_update": ("patch", "/api/v1/campaigns/{campaign}/", {"budget": "10"}, (200, 403, 200)),
    "deadlines_list": ("get", "/api/v1/deadlines/", None, (200, 200, 200)),
    "deals_list": ("get", "/api/v1/deals/", None, (403, 200, 200)),
    "deals_retrieve": ("get", "/api/v1/deals/{deal}/", None, (403, 200, 200)),
    "deals_stage_create": ("post", "/api/v1/deals/{deal}/stage/", {"stage": "proposal"}, (403, 200, 200)),
    "schema": ("get", "/api/v1/schema/", None, (200, 200, 200)),
}


@pytest.fixture
def api_world(world):
    """The pages' world, plus a new lead, a lead waiting in the queue and a deal of the rep's."""
    campaign = world["campaign"]
    marketer, rep = world[MKT], world[REP]
    converted = advance(LeadFactory(campaign=campaign), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    return {
        **world,
        "ids": {
            "lead": LeadFactory(campaign=campaign).pk,
            "waiting": advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep).pk,
            "campaign": campaign.pk,
            "deal": converted.deal.pk,
            "rep": rep.pk,
        },
    }


def api_call(client: APIClient, operation: str, ids: dict):
    method, path, body, _ = API_MATRIX[operation]
    if body is not None:
        body = {key: value.format(**ids) if isinstance(value, str) else value for key, value in body.items()}
    return getattr(client, method)(path.format(**ids), body, format="json")


def test_the_api_matrix_names_every_api_operation(api_world):
    client = APIClient()
    client.force_authenticate(api_world[MGR])
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {name.split(":")[0] for name in API_MATRIX} == operations | {"schema"}


@pytest.mark.parametrize("operation", API_MATRIX)
def test_the_api_answers_anonymous_callers_401(api_world, operation):
    response = api_call(APIClient(), operation, api_world["ids"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("role_index,role", list(enumerate([MKT, REP, MGR])))
@pytest.mark.parametrize("operation", API_MATRIX)
def test_each_role_gets_its_api_operations_and_403_elsewhere(api_world, operation, role_index, role):
    _, key = token_issue(user=api_world[role], name="matrix")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api_call(client, operation, api_world["ids"])
    assert response.status_code == API_MATRIX[operation][3][role_index], response.content
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "permission_denied"


def test_api_writes_from_a_browser_session_need_the_csrf_token(api_world):
    """The API takes the browser's session too (the docs page's "Try it out"): then CSRF applies."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(api_world[MKT])
    response = client.post(f"/api/v1/leads/{api_world['ids']['lead']}/moves/", {"move": "qualify"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert Lead.objects.get(pk=api_world["ids"]["lead"]).status == Lead.Status.NEW
