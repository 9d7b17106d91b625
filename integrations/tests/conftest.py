import pytest

from integrations import local_receiver as fake_server


@pytest.fixture
def fake():
    """A local HTTP server recording what Handoff posts to it."""
    server_state, server = fake_server.start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """Tests post to 127.0.0.1, which production refuses."""
    settings.INTEGRATIONS_ALLOW_LOOPBACK = True
