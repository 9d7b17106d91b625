"""Sweep health: every sweep leaves a heartbeat; a sweep silent for three intervals is stale, which
/healthz answers with 503 and managers see as a red banner on every page; the dashboard reports how
long after their due time breaches were recorded."""

import datetime
import time

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, advance
from enforcement.health import breach_detection_delay, sweep_status
from enforcement.models import SweepHeartbeat
from enforcement.sweep import sweep_deadlines
from enforcement.tasks import sweep_deadlines as sweep_task
from enforcement.templatetags.health import seconds_span
from enforcement.tests.test_worker import QUEUES
from leads.models import Lead, LeadEvent
from sla.models import Deadline

SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
BANNER = "breaches are not being recorded"
SWEEP_CONTEXT = "enforcement.health.sweep_context"


def heartbeat(*, finished_ago: datetime.timedelta) -> SweepHeartbeat:
    """Pretend the last sweep finished `finished_ago`."""
    finished = timezone.now() - finished_ago
    return SweepHeartbeat.objects.update_or_create(
        pk=1, defaults={"last_started_at": finished - SECOND, "last_finished_at": finished, "runs": 7}
    )[0]


def hand_off(campaign, marketer) -> Lead:
    return advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)


def breach_after(campaign, marketer, *, seconds: int, days_ago: float = 0) -> Deadline:
    """A claim deadline that fell due `days_ago` days ago and that the sweep noticed `seconds` later."""
    lead = hand_off(campaign, marketer)
    due = timezone.now() - datetime.timedelta(days=days_ago) - HOUR
    Deadline.objects.filter(lead=lead).update(starts_at=due - HOUR, due_at=due)
    assert sweep_deadlines(now=due + seconds * SECOND) == 1
    return Deadline.objects.get(lead=lead)


def without_sweep_context(engine: dict) -> dict:
    processors = [name for name in engine["OPTIONS"]["context_processors"] if name != SWEEP_CONTEXT]
    return {**engine, "OPTIONS": {**engine["OPTIONS"], "context_processors": processors}}


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def interval(settings):
    """A 10-second sweep interval: stale after 30 s of silence."""
    settings.SLA_SWEEP_INTERVAL = 10
    return datetime.timedelta(seconds=10)


@pytest.mark.django_db
class TestHeartbeat:
    def test_every_sweep_leaves_a_heartbeat_with_what_it_did(self, marketer, campaign):
        """The first sweep creates the heartbeat row, later ones overwrite it and count: the row says when
        the last run started and finished, how long it took and how many breaches it recorded."""
        # Given one claim deadline an hour overdue, and no sweep ever run
        lead = hand_off(campaign, marketer)
        Deadline.objects.filter(lead=lead).update(starts_at=timezone.now() - 2 * HOUR, due_at=timezone.now() - HOUR)
        assert not SweepHeartbeat.objects.exists()

        # When the sweep runs twice
        before = timezone.now()
        sweep_deadlines()
        first = SweepHeartbeat.objects.get()
        sweep_deadlines()
        after = timezone.now()

        # Then the first run recorded its breach, the second found nothing, and both were counted
        assert (first.runs, first.last_breached) == (1, 1)
        beat = SweepHeartbeat.objects.get()
        assert (beat.runs, beat.last_breached) == (2, 0)
        assert first.last_finished_at <= beat.last_started_at <= beat.last_finished_at
        assert before <= first.last_started_at and beat.last_finished_at <= after
        assert 0 <= beat.last_duration_ms <= (after - before).total_seconds() * 1000

    def test_the_heartbeat_is_the_wall_clock_even_when_the_sweep_is_given_its_own_now(self):
        """A sweep asked to look at next week still says it ran now: the heartbeat is about the worker."""
        before = timezone.now()

        sweep_deadlines(now=before + 7 * DAY)

        assert before <= SweepHeartbeat.objects.get().last_finished_at <= timezone.now()

    def test_a_sweep_that_fails_leaves_no_heartbeat(self):
        """A worker whose sweep raises on every run must go stale like a dead one."""
        with pytest.raises(ValueError):
            sweep_deadlines(now=datetime.datetime(2026, 1, 5, 9, 0))  # naive: refused

        assert not SweepHeartbeat.objects.exists()

    def test_the_heartbeat_costs_one_query(self):
        """The sweep with nothing due costs its two indexed look-ups (breaches, warnings) plus the one
        heartbeat upsert, whose commit does not wait for the disk."""
        sweep_deadlines()  # the row exists from here on; the upsert is one statement either way
        with CaptureQueriesContext(connection) as captured:
            sweep_deadlines()
        statements = [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]
        assert len(statements) == 3
        assert "ON CONFLICT" in statements[-1] and "synchronous_commit TO OFF" in statements[-1]

    def test_a_long_sweep_beats_after_every_batch(self, marketer, campaign):
        """A storm's sweep takes many batches: it beats after each one, so /healthz and the banner never
        call it stale while it works, and counts the run once, when it ends, with all it recorded."""
        # Given three overdue claim deadlines, swept one per batch
        for _ in range(3):
            lead = hand_off(campaign, marketer)
            Deadline.objects.filter(lead=lead).update(starts_at=timezone.now() - 2 * HOUR, due_at=timezone.now() - HOUR)

        # When the sweep runs
        with CaptureQueriesContext(connection) as captured:
            assert sweep_deadlines(batch_size=1) == 3

        # Then it beat after each of its three full batches and once at the end, counting one run
        beats = [query["sql"] for query in captured if "INTO handoff_sweepheartbeat" in query["sql"]]
        assert len(beats) == 4
        beat = SweepHeartbeat.objects.get()
        assert (beat.runs, beat.last_breached) == (1, 3)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sweep_leaves_a_heartbeat():
    """sweep_deadlines sent through Redis to a running worker, with nothing due, still beats."""
    sent_at = timezone.now()
    beat = SweepHeartbeat.objects.filter(last_started_at__gte=sent_at)
    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, loglevel="WARNING", queues=QUEUES):
        sweep_task.delay()
        # The broker may still hold tasks other tests enqueued without a worker: wait past them.
        give_up_at = time.monotonic() + 30
        while not beat.exists() and time.monotonic() < give_up_at:
            time.sleep(0.2)

    assert beat.get().last_breached == 0
    assert beat.get().last_finished_at <= timezone.now()


@pytest.mark.django_db
class TestSweepStatus:
    def test_never_run_is_stale(self, interval):
        status = sweep_status(now=timezone.now())
        assert (status.last_run_at, status.age, status.stale, status.interval) == (None, None, True, interval)

    @pytest.mark.parametrize(
        "seconds_ago,stale",
        [(0, False), (29, False), (30, False), (31, True), (3600, True)],
    )
    def test_stale_only_after_three_intervals_of_silence(self, interval, seconds_ago, stale):
        """With a 10 s interval, a sweep 30 s ago is still fine and 31 s ago is stale."""
        beat = heartbeat(finished_ago=datetime.timedelta(0))
        now = beat.last_finished_at + seconds_ago * SECOND

        status = sweep_status(now=now)

        assert (status.last_run_at, status.age_seconds, status.stale) == (beat.last_finished_at, seconds_ago, stale)

    def test_a_heartbeat_from_a_clock_running_ahead_is_fresh_not_negative(self, interval):
        beat = heartbeat(finished_ago=datetime.timedelta(0))
        status = sweep_status(now=beat.last_finished_at - 5 * SECOND)
        assert (status.age, status.stale) == (datetime.timedelta(0), False)


@pytest.mark.django_db
class TestHealthz:
    def test_a_fresh_sweep_is_healthy(self, client, interval):
        """Anyone (a load balancer, a monitor) gets 200 with when the sweep last ran."""
        beat = heartbeat(finished_ago=5 * SECOND)

        response = client.get(reverse("healthz"))

        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["database"], body["broker"]) == ("ok", "ok", "ok")
        assert body["sweep"]["last_run_at"] == beat.last_finished_at.isoformat()
        assert 5 <= body["sweep"]["age_seconds"] < 15
        assert body["sweep"]["stale"] is False

    def test_a_stale_sweep_is_degraded(self, client, interval):
        """Database and broker are fine, but a silent worker makes the whole answer 503."""
        heartbeat(finished_ago=HOUR)

        response = client.get(reverse("healthz"))

        assert response.status_code == 503
        body = response.json()
        assert (body["status"], body["database"], body["broker"]) == ("degraded", "ok", "ok")
        assert body["sweep"]["stale"] is True
        assert body["sweep"]["age_seconds"] >= 3600

    def test_a_sweep_that_never_ran_is_degraded(self, client):
        response = client.get(reverse("healthz"))

        assert response.status_code == 503
        assert response.json()["status"] == "degraded"
        assert response.json()["sweep"] == {"last_run_at": None, "age_seconds": None, "stale": True}

    def test_a_real_sweep_makes_it_healthy_again(self, client):
        assert client.get(reverse("healthz")).status_code == 503
        sweep_deadlines()
        assert client.get(reverse("healthz")).status_code == 200


@pytest.mark.django_db
class TestLivez:
    def test_a_stale_sweep_leaves_the_web_process_alive(self, client, interval, django_assert_max_num_queries):
        """A load balancer's liveness probe must not restart healthy web servers because the worker is
        down: /livez answers 200 where /healthz answers 503, with one query and no session."""
        heartbeat(finished_ago=HOUR)
        assert client.get(reverse("healthz")).status_code == 503

        with django_assert_max_num_queries(1):
            response = client.get(reverse("livez"))

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
        assert "no-cache" in response["Cache-Control"]
        assert "sessionid" not in response.cookies

    def test_an_unreachable_broker_leaves_the_web_process_alive(self, client, settings, interval):
        heartbeat(finished_ago=SECOND)
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
        assert client.get(reverse("healthz")).status_code == 503
        assert client.get(reverse("livez")).status_code == 200

    def test_liveness_is_not_redirected_to_https(self, client, settings):
        """Probes talk plain HTTP to the app itself, behind the proxy that terminates TLS."""
        settings.SECURE_SSL_REDIRECT = True
        assert client.get(reverse("livez")).status_code == 200
        assert client.get(reverse("leads:queue")).status_code == 301


@pytest.mark.django_db
class TestBanner:
    @pytest.mark.parametrize("page", ["dashboard", "leads:queue", "campaigns:list", "no_role"])
    def test_managers_see_the_banner_on_every_page_when_the_sweep_is_stale(self, client, manager, interval, page):
        heartbeat(finished_ago=HOUR)
        client.force_login(manager)

        response = client.get(reverse(page))

        assert BANNER in response.text
        assert "The SLA worker has not run since" in response.text

    def test_a_sweep_that_never_ran_says_so(self, client, manager):
        client.force_login(manager)
        assert "The SLA worker has never run — breaches are not being recorded." in client.get(reverse("no_role")).text

    def test_no_banner_while_the_sweep_is_fresh(self, client, manager, interval):
        heartbeat(finished_ago=5 * SECOND)
        client.force_login(manager)
        assert BANNER not in client.get(reverse("dashboard")).text

    @pytest.mark.parametrize("who,page", [("rep", "leads:queue"), ("marketer", "campaigns:list")])
    def test_reps_and_marketers_never_see_it(self, request, client, interval, who, page):
        heartbeat(finished_ago=HOUR)
        client.force_login(request.getfixturevalue(who))
        assert BANNER not in client.get(reverse(page)).text

    @pytest.mark.parametrize("who,extra", [("manager", 1), ("rep", 0), ("marketer", 0)])
    def test_the_banner_costs_one_query_for_managers_and_none_for_others(self, request, client, settings, who, extra):
        """The same page, with and without the banner's context processor: one more query for a manager
        (the heartbeat row), none for anyone else."""
        heartbeat(finished_ago=HOUR)
        client.force_login(request.getfixturevalue(who))
        url = reverse("no_role")
        page_queries(client, url)  # session and roles warmed up alike for both counts
        with_banner = page_queries(client, url)
        settings.TEMPLATES = [without_sweep_context(engine) for engine in settings.TEMPLATES]
        without_banner = page_queries(client, url)
        assert with_banner - without_banner == extra

    def test_the_dashboard_reads_the_heartbeat_once_for_banner_and_last_run_line(self, client, manager, interval):
        heartbeat(finished_ago=HOUR)
        client.force_login(manager)
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("dashboard"))
        assert sum("handoff_sweepheartbeat" in query["sql"] for query in captured) == 1


@pytest.mark.django_db
class TestDashboard:
    def test_the_dashboard_says_when_the_sweep_last_ran(self, client, manager, interval):
        heartbeat(finished_ago=2 * HOUR + 5 * 60 * SECOND)
        client.force_login(manager)
        text = client.get(reverse("dashboard")).text
        assert "Sweep last ran 2 h 5 min ago" in text

    def test_median_and_worst_detection_delay_over_the_last_seven_days(self, client, manager, marketer, campaign):
        """Four breaches this week noticed 10, 20, 40 and 90 s after their due time: the median is
        interpolated between the middle two (30 s), the worst is 90 s, over the 10 s promise.
        A breach from eight days ago and a deadline not breached are left out."""
        # Given
        delays = [10, 20, 40, 90]
        for seconds in delays:
            breach_after(campaign, marketer, seconds=seconds, days_ago=1)
        breach_after(campaign, marketer, seconds=5000, days_ago=8)
        hand_off(campaign, marketer)

        # When
        detection = breach_detection_delay(now=timezone.now())

        # Then
        assert (detection.breaches, detection.median, detection.max) == (4, 30 * SECOND, 90 * SECOND)
        assert detection.within_target is False
        recorded = LeadEvent.objects.filter(kind=LeadEvent.Kind.BREACH).values_list(
            "data__detected_after_seconds", flat=True
        )
        assert sorted(recorded) == [*delays, 5000]
        client.force_login(manager)
        assert "30 s after the due time at the median, 1 min 30 s at worst" in client.get(reverse("dashboard")).text

    def test_detection_within_two_intervals_is_on_target(self, marketer, campaign, settings):
        """The promise is two sweep intervals at the 99th percentile: 10 s with the default 5 s
        interval, so 8 s is on target and 12 s is not; with a 10 s interval, 12 s is on target."""
        settings.SLA_SWEEP_INTERVAL = 5
        breach_after(campaign, marketer, seconds=8)
        detection = breach_detection_delay(now=timezone.now())
        assert (detection.breaches, detection.median, detection.max, detection.target) == (
            1,
            8 * SECOND,
            8 * SECOND,
            10 * SECOND,
        )
        assert detection.within_target is True

        breach_after(campaign, marketer, seconds=12)
        assert breach_detection_delay(now=timezone.now()).within_target is False
        settings.SLA_SWEEP_INTERVAL = 10
        assert breach_detection_delay(now=timezone.now()).within_target is True

    def test_the_promise_is_kept_at_the_99th_percentile_not_at_the_worst(self, marketer, campaign, settings):
        """One breach in a hundred recorded late (a database restart) does not break the promise: the
        99th percentile of 99 breaches at 5 s and one at 60 s is 5.55 s (interpolated)."""
        settings.SLA_SWEEP_INTERVAL = 5
        now = timezone.now()
        leads = [hand_off(campaign, marketer) for _ in range(100)]
        for number, lead in enumerate(leads):
            Deadline.objects.filter(lead=lead).update(
                starts_at=now - 2 * HOUR,
                due_at=now - HOUR,
                breached_at=now - HOUR + (60 if number == 0 else 5) * SECOND,
            )

        detection = breach_detection_delay(now=now)

        assert (detection.breaches, detection.max, detection.p99) == (100, 60 * SECOND, 5.55 * SECOND)
        assert detection.within_target is True

    def test_no_breaches_no_figures(self):
        detection = breach_detection_delay(now=timezone.now())
        assert (detection.breaches, detection.median, detection.p99, detection.max, detection.within_target) == (
            0,
            None,
            None,
            None,
            True,
        )


@pytest.mark.parametrize(
    "delta,text",
    [
        (None, "–"),
        (datetime.timedelta(0), "0 s"),
        (42 * SECOND, "42 s"),
        (185 * SECOND, "3 min 5 s"),
        (2 * HOUR + 600 * SECOND, "2 h 10 min"),
        (DAY + 3 * HOUR, "1 d 3 h"),
    ],
)
def test_seconds_span(delta, text):
    assert seconds_span(delta) == text
