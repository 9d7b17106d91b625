"""PostgreSQL not answering: every page says 503, briefly unavailable, with Retry-After — never the 500
page. The database is really unreachable here: the connection points at a port where nothing listens."""

import socket

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down():
    """The app's connection aims at a dead port for the test, then back at PostgreSQL."""
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.fixture
def signed_in(manager):
    """A manager's browser with a session, made while the database answered."""
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/dashboard/"),
        ("get", "/leads/queue/"),
        ("get", "/campaigns/"),
        ("post", "/leads/1/claim/"),
        ("post", "/accounts/logout/"),
    ],
)
def test_every_page_answers_503_with_retry_after(signed_in, database_down, method, path):
    response = getattr(signed_in, method)(path)
    assert response.status_code == 503, response.content[:200]
    assert response["Retry-After"] == "30"
    assert b"briefly unavailable" in response.content


def test_the_login_form_still_shows_and_its_post_says_503(database_down):
    client = Client(raise_request_exception=False)
    assert client.get("/accounts/login/").status_code == 200  # it needs no database to show
    response = client.post("/accounts/login/", {"username": "manager", "password": "x"})
    assert (response.status_code, response["Retry-After"]) == (503, "30")


def test_other_failures_still_answer_the_500_page(rf):
    from handoff.views import errors

    # A bug, not the database: the 500 page. Called as Django calls it, inside the failure's except.
    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = errors.server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"went wrong on our side" in response.content
