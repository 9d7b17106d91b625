"""The Web intake page's curl example works as printed (issue 23): copied from the page after issuing a
token, run by bash on a stock Debian (no `uuidgen`) against a live server, it creates the lead."""

import html
import re
import subprocess
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from campaigns.tests.test_intake import clear_rate_limits
from leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)
CURL_EXAMPLE = re.compile(r'<pre[^>]*id="curl-example"[^>]*><code>(.*?)</code></pre>', re.S)


def test_the_curl_example_run_by_bash_creates_the_lead(client, live_server, marketer, campaign):
    clear_rate_limits()
    client.force_login(marketer)
    host = urlsplit(live_server.url).netloc
    # Issuing the token renders the page with it filled into the example, as a marketer sees it.
    page = client.post(reverse("campaigns:intake_settings", args=[campaign.pk]), HTTP_HOST=host).text
    command = html.unescape(CURL_EXAMPLE.search(page).group(1))
    assert "uuidgen" not in command and "YOUR_TOKEN" not in command
    assert command.startswith(f"curl -X POST '{live_server.url}/")

    run = subprocess.run(
        ["bash", "-c", command + " -sS -D - -o /dev/stderr"], capture_output=True, text=True, timeout=60, check=False
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("HTTP/1.1 201"), (run.stdout, run.stderr)
    assert '"created": true' in run.stderr
    lead = Lead.objects.get(email="ada@example.com")
    assert (lead.full_name, lead.company, lead.campaign) == ("Ada Lovelace", "Analytical Engines", campaign)
    # bash made a real key (with `uuidgen` missing it sent an empty one) and the endpoint stored it.
    key = campaign.intake_requests.get().idempotency_key
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", key), key
