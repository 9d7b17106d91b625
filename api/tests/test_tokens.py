"""API tokens: shown once, stored hashed, revocable, and refused with a clear 401 once revoked."""

import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import token_issue, token_revoke
from conftest import UserFactory

LEADS = "/api/v1/leads/"


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_token_is_stored_as_its_hash_and_prefix_only(marketer):
    token, key = token_issue(user=marketer, name="CRM sync")
    token.refresh_from_db()
    assert key.startswith("hoff_") and len(key) > 40
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    assert key not in {token.key_hash, token.prefix, token.name}


def test_a_token_acts_as_its_user_and_notes_its_use(marketer):
    token, key = token_issue(user=marketer, name="CRM sync")
    response = bearer(key).get(LEADS)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header,code",
    [
        ("Bearer hoff_not-a-real-token", "token_unknown"),
        ("Bearer", "token_malformed"),
        ("Bearer two words", "token_malformed"),
    ],
)
def test_a_wrong_token_is_a_401_that_says_why(db, header, code):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(LEADS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == code


def test_no_credentials_is_a_401(db):
    response = APIClient().get(LEADS)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided.", "fields": {}}
    }


def test_a_revoked_token_is_refused_with_a_clear_401(marketer):
    token, key = token_issue(user=marketer, name="old laptop")
    token_revoke(user=marketer, token_id=token.pk)
    response = bearer(key).get(LEADS)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "token_revoked"
    assert "revoked" in error["message"]


def test_a_deactivated_users_token_is_refused(marketer):
    _, key = token_issue(user=marketer, name="CRM")
    marketer.is_active = False
    marketer.save(update_fields=["is_active"])
    assert bearer(key).get(LEADS).json()["error"]["code"] == "user_inactive"


def test_revoking_twice_keeps_the_first_time(marketer):
    token, _ = token_issue(user=marketer, name="CRM")
    first = token_revoke(user=marketer, token_id=token.pk).revoked_at
    assert token_revoke(user=marketer, token_id=token.pk).revoked_at == first


def test_nobody_revokes_another_users_token(marketer, rep):
    token, _ = token_issue(user=marketer, name="CRM")
    with pytest.raises(ApiToken.DoesNotExist):
        token_revoke(user=rep, token_id=token.pk)


def test_the_page_shows_a_new_key_once_then_only_its_prefix(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("api:tokens"), {"name": "CRM sync"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=marketer)
    html = response.content.decode()
    key = html.split('id="new-token" type="text" value="')[1].split('"')[0]
    assert ApiToken.hash_key(key) == token.key_hash
    assert response["Cache-Control"] == "no-store"
    again = client.get(reverse("api:tokens")).content.decode()
    assert key not in again
    assert token.prefix in again


def test_the_page_revokes_only_your_own_tokens(client, marketer, rep):
    mine, _ = token_issue(user=rep, name="mine")
    theirs, _ = token_issue(user=marketer, name="theirs")
    client.force_login(rep)
    assert client.post(reverse("api:token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("api:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and mine.revoked_at <= timezone.now()
    assert theirs.revoked_at is None


def test_the_page_lists_only_your_tokens_and_refuses_a_blank_name(client, marketer, rep):
    token_issue(user=marketer, name="marketing's")
    client.force_login(rep)
    response = client.post(reverse("api:tokens"), {"name": "  "})
    assert response.status_code == 200
    assert "marketing&#x27;s" not in response.content.decode()
    assert not ApiToken.objects.filter(user=rep).exists()


def test_the_user_menu_links_to_the_tokens_page(client, rep):
    client.force_login(rep)
    assert reverse("api:tokens") in client.get(reverse("leads:mine")).content.decode()


def test_the_page_asks_anonymous_visitors_to_log_in(client, db):
    response = client.get(reverse("api:tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_superuser_revokes_a_token_in_the_admin(client, marketer):
    token, _ = token_issue(user=marketer, name="leaked")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:api_apitoken_changelist")
    response = client.post(url, {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
