"""API test helpers: a client that sends a user's API token."""

import pytest
from rest_framework.test import APIClient

from api.tokens import token_issue


def token_client(user) -> APIClient:
    """A client carrying a fresh API token of `user` (no session)."""
    _, key = token_issue(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_as():
    return token_client
