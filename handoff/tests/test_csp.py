"""Content-Security-Policy: every page allows only Handoff's own scripts, styles and images, and no
template carries what such a policy blocks (inline scripts, inline event handlers, style attributes)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from campaigns.models import Campaign
from conftest import LeadFactory

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    Path(settings.BASE_DIR) / app / "templates" for app in ("handoff", "campaigns", "leads")
]
# Code shown to the user as text (the landing-page snippet on the web intake page) is escaped, not run.
ESCAPED = re.compile(r"{% filter force_escape %}.*?{% endfilter %}", re.DOTALL)
BLOCKED = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.django_db
class TestHeader:
    @pytest.mark.parametrize("url", ["/accounts/login/", "/healthz", "/no-such-page/"])
    def test_every_answer_carries_the_policy(self, client, url):
        directives = policy(client.get(url))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in client.get(url)["Content-Security-Policy"]

    def test_signed_in_pages_carry_it_too(self, client, marketer, campaign):
        client.force_login(marketer)
        assert policy(client.get(reverse("campaigns:detail", args=[campaign.pk])))["script-src"] == "'self'"


def template_files() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS if folder.exists() for path in folder.rglob("*.html"))


def test_templates_are_found():
    assert len(template_files()) > 40


@pytest.mark.parametrize("path", template_files(), ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_no_template_has_what_the_policy_blocks(path):
    """JavaScript lives in static/js/ and widths come from data-width attributes set by static/js/pages.js."""
    text = ESCAPED.sub("", path.read_text())
    found = [f"{what}: {match.group(0).strip()}" for what, rx in BLOCKED.items() for match in rx.finditer(text)]
    assert found == []


@pytest.mark.django_db
def test_progress_bars_get_their_width_from_data_attributes(client, marketer, campaign):
    """The campaign results' month bars render without a style attribute; pages.js reads data-width."""
    Campaign.objects.filter(pk=campaign.pk).update(target_mqls_per_month=4)
    LeadFactory(campaign=campaign, score=90)
    client.force_login(marketer)

    html = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert 'data-width="' in html and "style=" not in html
    assert "js/pages.js" in html


@pytest.mark.django_db
def test_the_api_docs_page_runs_under_the_policy(client, rep):
    """Swagger UI's files come from drf-spectacular-sidecar (served as our static files, no CDN), and its
    start-up script from the page's own `?script` address: the rendered page has nothing the policy blocks."""
    client.force_login(rep)
    response = client.get(reverse("api:docs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert [what for what, rx in BLOCKED.items() if rx.search(html)] == []
    assert f"{settings.STATIC_URL}drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "//cdn" not in html and "unpkg" not in html
    script = client.get(reverse("api:docs"), {"script": ""})
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()
