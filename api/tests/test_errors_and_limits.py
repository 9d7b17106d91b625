"""Every error is the same JSON shape, and each token has its rate limits."""

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from api.throttles import RequestRateThrottle, WriteRateThrottle
from api.tokens import token_issue

LEADS = "/api/v1/leads/"


def fresh_token_client(user) -> tuple[APIClient, object]:
    token, key = token_issue(user=user, name="limits")
    # A fresh test database reuses ids: forget counts a run a minute ago left for this token id.
    caches["throttle"].delete_many(
        [
            throttle.cache_format % {"scope": throttle.scope, "ident": f"token-{token.pk}"}
            for throttle in (RequestRateThrottle, WriteRateThrottle)
        ]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, token


@pytest.mark.parametrize(
    "method,kwargs,status,code",
    [
        ("post", {"data": "{not json", "content_type": "application/json"}, 400, "parse_error"),
        (
            "post",
            {"data": "name=Ada", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ("delete", {}, 405, "method_not_allowed"),
    ],
)
def test_request_errors_are_json_with_a_code(api_as, marketer, method, kwargs, status, code):
    response = getattr(api_as(marketer), method)(LEADS, **kwargs)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


def test_an_address_under_the_api_that_names_nothing_is_a_json_404(api_as, marketer):
    response = api_as(marketer).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_token_over_its_rate_gets_429_with_retry_after(settings, marketer):
    settings.API_RATE = "3/minute"
    client, _ = fresh_token_client(marketer)
    assert [client.get(LEADS).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(LEADS)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "throttled"
    # Each token (and so each user) has its own count.
    other, _ = fresh_token_client(marketer)
    assert other.get(LEADS).status_code == 200


def test_writes_have_a_lower_limit_of_their_own(settings, marketer, campaign):
    settings.API_WRITE_RATE = "1/minute"
    client, _ = fresh_token_client(marketer)
    body = {"campaign": campaign.pk, "full_name": "Ada", "email": "ada@example.com"}
    assert client.post(LEADS, body, format="json").status_code == 201
    assert client.post(LEADS, body, format="json").status_code == 429
    assert client.get(LEADS).status_code == 200  # reads still go through
