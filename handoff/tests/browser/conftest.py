"""Browser journeys: Debian's Chromium driven by Playwright against a live server, with a real Celery
worker and beat on the real PostgreSQL and Redis.

Every page a journey looks at goes through `Tab.check`: no console error, no failed request, no 5xx,
no serious or critical axe-core violation, the page fits a 390 px phone without sideways scrolling, and
a table wider than its box shows a scroll cue, on a laptop and on a phone.
Key pages are saved as desktop (1366×900) and phone (390×844) screenshots under `screenshots/`
(git-ignored; SCREENSHOT_DIR moves it).
"""

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery.beat import EmbeddedService
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from conftest import PASSWORD
from handoff.celery import app

# Playwright's sync API keeps an asyncio loop running in the test's thread for the whole session. The
# tests' own ORM calls (given/then) are plain synchronous code, so Django's guard against the ORM in
# async code would be a false alarm; the live server and the worker run in their own threads anyway.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(settings.BASE_DIR) / "screenshots"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# Beat sends the SLA sweep this often during a journey (seconds), instead of SLA_SWEEP_INTERVAL.
BEAT_INTERVAL = 1.0
# axe-core impacts that fail a page.
BLOCKING_IMPACTS = ("serious", "critical")

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map((node) => node.target.join(" ")),
  }));
}"""


# Boxes that scroll a table sideways with no cue: a wide table must show that it holds more (the shade
# and the line static/js/pages.js adds to every `.table-responsive`), or not be wider than its box.
UNCUED_SCROLL = """() => Array.from(document.querySelectorAll("body *")).filter((box) => {
  const style = getComputedStyle(box);
  if (!["auto", "scroll"].includes(style.overflowX) || box.offsetParent === null) return false;
  if (box.scrollWidth <= box.clientWidth + 1 || !box.querySelector("table")) return false;
  const frame = box.closest(".table-scroll");
  const cue = frame && frame.querySelector(":scope > .scroll-cue");
  return !(frame && frame.classList.contains("is-scrollable") && cue && cue.offsetHeight > 0);
}).map((box) => `${box.className} holding ${box.scrollWidth} px in ${box.clientWidth} px`)"""


def uncued_scrolling(page) -> list[str]:
    """The boxes of the page shown that scroll a table sideways without a cue (after pages.js caught up)."""
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(f"() => ({UNCUED_SCROLL})().length === 0", timeout=2_000)
    return page.evaluate(UNCUED_SCROLL)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright's own browser downloads are not available everywhere we run."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP}


@pytest.fixture
def worker_and_beat(transactional_db):
    """A real Celery worker (threads, on the test's Redis database) and a real beat sending the SLA sweep,
    the alerts' and webhooks' relay and the start of signed policy drafts every BEAT_INTERVAL seconds, as
    `make run` does every SLA_SWEEP_INTERVAL, WEBHOOK_RELAY_INTERVAL and minute."""
    saved = app.conf.beat_schedule
    app.conf.beat_schedule = {
        name: {**settings.CELERY_BEAT_SCHEDULE[name], "schedule": BEAT_INTERVAL, "options": {"expires": BEAT_INTERVAL}}
        for name in ("sla-sweep", "integrations-relay", "sla-start-signed-policies")
    }
    beat = EmbeddedService(app, thread=True, scheduler_cls="celery.beat:Scheduler", max_interval=BEAT_INTERVAL)
    try:
        # Every queue, as `make run`'s workers serve them: the sweep (SLA_QUEUE) and the escalation
        # steps (ESCALATION_QUEUE) each on a worker of their own there.
        queues = ["celery", settings.SLA_QUEUE, settings.ESCALATION_QUEUE]
        with start_worker(
            app, perform_ping_check=False, pool="threads", concurrency=2, loglevel="WARNING", queues=queues
        ):
            beat.start()
            try:
                yield
            finally:
                beat.stop()
    finally:
        app.conf.beat_schedule = saved


@dataclass
class Tab:
    """One person's browser tab, with the checks every page of a journey must pass."""

    page: object
    base_url: str
    journey: str
    viewport: dict = field(default_factory=lambda: DESKTOP)
    problems: list[str] = field(default_factory=list)
    failed_requests: dict[str, str] = field(default_factory=dict)
    downloads: set[str] = field(default_factory=set)
    shots: int = 0

    def __post_init__(self):
        page = self.page
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error on {page.url}: {error}"))
        page.on("requestfailed", lambda request: self.failed_requests.setdefault(request.url, request.failure))
        # A download ends its request with ERR_ABORTED: that one is not a failure.
        page.on("download", lambda download: self.downloads.add(download.url))
        page.on(
            "response",
            lambda response: (
                response.status >= 500
                and self.problems.append(f"{response.status} from {response.request.method} {response.url}")
            ),
        )

    def _on_console(self, message):
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def visit(self, path: str, shot: str | None = None):
        self.page.goto(self.base_url + path)
        return self.check(shot)

    def login(self, user) -> None:
        self.visit("/accounts/login/")
        self.page.get_by_label("Username").fill(user.username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.check()

    def press_together(self) -> None:
        """Before pressing a button that other tabs press too: mark this page, see `wait_for_next_page`."""
        self.page.evaluate("() => { window.pressedHere = true; }")

    def wait_for_next_page(self, shot: str | None = None):
        """After `press_together` and the press: wait until the page that answered is loaded, check it."""
        self.page.wait_for_function("() => window.pressedHere === undefined")
        return self.check(shot)

    def check(self, shot: str | None = None):
        """The page now shown passes every check; with `shot`, it is saved at both widths."""
        page = self.page
        page.wait_for_load_state("load")
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
        # govern: a <script> tag with axe's code inline would be refused, as it should be.
        page.evaluate(f"() => {{ {AXE.read_text()}\n}}")
        violations = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING_IMPACTS]
        assert not violations, f"axe on {page.url}: {violations}"
        problems = self.problems + [
            f"request failed: {url} {failure}"
            for url, failure in self.failed_requests.items()
            if url not in self.downloads
        ]
        assert not problems, "\n".join(problems)
        uncued = uncued_scrolling(page)
        assert not uncued, f"{page.url} scrolls tables sideways without a cue: {uncued}"
        if shot:
            self.shots += 1
            page.set_viewport_size(DESKTOP)
            self._shoot(f"{self.shots:02d}-{shot}-desktop")
        page.set_viewport_size(PHONE)
        try:
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{page.url} is {width} px wide on a {PHONE['width']} px phone"
            uncued = uncued_scrolling(page)
            assert not uncued, f"{page.url} scrolls tables sideways without a cue on a phone: {uncued}"
            if shot:
                self._shoot(f"{self.shots:02d}-{shot}-phone")
        finally:
            page.set_viewport_size(self.viewport)
        return page

    def _shoot(self, name: str) -> None:
        folder = SCREENSHOTS / self.journey
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def open_tab(live_server, browser, request):
    """open_tab(user) -> a logged-in Tab in its own browser context (its own cookies)."""
    contexts = []
    journey = request.node.originalname.removeprefix("test_")

    def open_tab(user=None, viewport=DESKTOP) -> Tab:
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        name = journey if user is None else f"{journey}/{user.username}"
        context.set_default_timeout(10_000)
        tab = Tab(page=context.new_page(), base_url=live_server.url, journey=name, viewport=viewport)
        if user is not None:
            tab.login(user)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
