"""`manage.py benchmark_intake` (issue 25) posts what it says against a live server: every post a new lead
with its own Idempotency-Key, answered 201, over a new connection per post or one kept per client."""

import re

import pytest
from django.core.management import call_command

from campaigns.tests.test_intake import clear_rate_limits
from leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("keep_alive", [False, True], ids=["new connection per post", "keep-alive"])
def test_every_post_is_a_new_lead_answered_201(live_server, campaign, settings, capsys, keep_alive):
    settings.INTAKE_RATE_PER_IP = settings.INTAKE_RATE_PER_CAMPAIGN = 1000
    clear_rate_limits()

    call_command("benchmark_intake", url=live_server.url, posts=9, clients=[2, 4], keep_alive=keep_alive)

    out = capsys.readouterr().out
    assert re.findall(r"answers (\{.*?\})", out) == ["{201: 9}", "{201: 9}"], out
    assert re.findall(r"^(\d+) clients", out, re.M) == ["2", "4"]
    assert ("one connection per client" in out) == keep_alive
    leads = Lead.objects.filter(campaign=campaign, email__startswith="load-")
    assert leads.count() == 18 and leads.values("email").distinct().count() == 18
    assert campaign.intake_requests.count() == 18
