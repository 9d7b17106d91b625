"""Time every heavy page at two database sizes in one run: `manage.py benchmark_pages`.

Each database named by `--databases` (on the server of DATABASE_URL) must have been filled by
`manage.py seed_scale` (e.g. 10,000 and 1,000,000 leads). With `--port` (the way to measure), the
command starts the production server for every database at once (gunicorn with
handoff/gunicorn.conf.py on 127.0.0.1:PORT for the first, PORT+1 for the next…, `DEBUG=0 PLAIN_HTTP=1`,
this process's SECRET_KEY, REDIS_URL and settings environment) and requests each page over real HTTP,
**a new connection per request**, signed in as the user who would open it (a session made beforehand):
`--requests` timed requests after two warm-ups, from the request's start to its last byte, **the
databases taking turns request by request** (small, large, small, large…), so a ratio compares two
sizes under the same load: on a shared VM whose speed drifts by a fifth from minute to minute, timing
one size after the other moved a ratio by as much. Without `--port` the pages
are timed through Django's test client (no server, no sockets: a lower bound). Either way the page is
then requested once more through the test client, in this process, to count its queries and find the
heaviest, and that query's raw-SQL floor is taken (the same SQL on a bare cursor, median of
`--requests` runs). Claims (a POST that changes data: the most urgent waiting lead each time) are timed
through the test client only, and the claim service alone beside it. The SLA dashboard is timed for
each period a manager picks. `--only dashboard` times just the pages whose label says so. The
1-minute load average is taken before and after the pages (each database's, one after the other,
through the test client).

Results go to stdout and, as a Markdown table with the date, machine and sizes, to `--output`.

    DEBUG=0 PLAIN_HTTP=1 SECRET_KEY=x ALLOWED_HOSTS=127.0.0.1,testserver DATABASE_URL=postgres://…/handoff_small \
      .venv/bin/python manage.py benchmark_pages --databases handoff_small handoff_scale --port 8602
"""

import datetime
import functools
import http.client
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Max, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent, LeadTally, RepProfile
from sla.models import Deadline


@dataclass
class Timing:
    p50: float
    p95: float
    queries: int = 0
    heaviest_ms: float = 0.0
    floor_ms: float = 0.0
    heaviest_sql: str = ""
    sql_ms: float = 0.0  # all its queries together, as the test client's request ran them
    kilobytes: int | None = 0  # None: a claim, whose answer is a redirect and whose SQL cannot be replayed


@dataclass
class Run:
    database: str
    leads: int
    events: int
    deadlines: int
    running: int
    pages: dict[str, Timing] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after its pages


def cpu_check() -> float:
    """Milliseconds this machine takes to sum ten million integers in Python (the best of five): how
    fast its cores are, beside the figures (the 2-core VMs here differ by two times from one to the
    next; 2026-12-08's took ~180 ms)."""
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        sum(range(10_000_000))
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.95) - 1)]


class Command(BaseCommand):
    help = "Time the heavy pages at several database sizes (databases filled by seed_scale)."

    def add_arguments(self, parser):
        parser.add_argument("--databases", nargs="+", required=True, help="database names, smallest first")
        parser.add_argument("--requests", type=int, default=30)
        parser.add_argument("--output", default="", help="write the Markdown table here too")
        parser.add_argument(
            "--only",
            default="",
            help="time only the pages whose label (before its figures in brackets) contains this "
            "(e.g. 'dashboard'; no claims)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="time over HTTP against gunicorn on this port (and the next: a server per database)",
        )

    def handle(self, *, databases: list[str], requests: int, output: str, only: str, port: int | None, **options):
        self.port = port
        if port:
            servers = []
            try:
                for offset, name in enumerate(databases):
                    servers.append(self._server(name, port + offset))
                runs = self._run_over_http(databases, requests, only)
            finally:
                for server in servers:
                    server.terminate()
                    server.wait(timeout=30)
        else:
            runs = []
            for name in databases:
                self._use(name)
                self.stdout.write(f"{name}:")
                runs.append(self._run(name, requests, only))
        table = self._table(runs, requests)
        self.stdout.write(table)
        if output:
            with open(output, "w") as file:
                file.write(table)

    @staticmethod
    def _use(name: str) -> None:
        """Point this process's connection at the database `name`."""
        connection.close()
        connection.settings_dict["NAME"] = name

    def _server(self, name: str, port: int) -> subprocess.Popen:
        """The production server (handoff/gunicorn.conf.py) on the database `name`, once it answers."""
        database = connection.settings_dict
        url = f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{name}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "0",
            "PLAIN_HTTP": "1",
            "SECRET_KEY": settings.SECRET_KEY,  # the sessions made here must be valid there
            "ALLOWED_HOSTS": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
        }
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [gunicorn, "-c", "handoff/gunicorn.conf.py", "--access-logfile", "/dev/null", "handoff.wsgi"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # its log; an error shows as a status other than 200
        )
        for _ in range(100):
            try:
                self._http_get("/healthz", "", port)
                return server
            except OSError:
                time.sleep(0.2)
        server.terminate()
        raise CommandError(f"gunicorn did not answer on port {port}")

    @staticmethod
    def _http_get(url: str, session: str, port: int) -> tuple[int, int]:
        """One GET over a new connection; returns the status and the body's size."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
            response = conn.getresponse()
            return response.status, len(response.read())
        finally:
            conn.close()

    def _pages(self) -> list[tuple[str, object, str]]:
        """(label, user, URL) of each page, opened by whom it is for, on its heaviest case."""
        User = get_user_model()
        marketer = User.objects.get(username="scale-marketer")
        manager = User.objects.get(username="scale-manager-01")
        open_by_rep = (
            LeadTally.objects.filter(status__in=Lead.WORKED_BY_SALES, owner__isnull=False)
            .values("owner")
            .annotate(n=Sum("leads"))
            .order_by("-n")
        )
        busiest = open_by_rep.first()
        rep = User.objects.get(pk=busiest["owner"])
        biggest = (
            LeadTally.objects.values("campaign").annotate(n=Sum("leads")).order_by("-n").values_list("campaign", "n")
        )
        campaign, campaign_leads = biggest[0]
        events = LeadEvent.objects.filter(lead_id=1).count()
        today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
        ninety_days = f"period=custom&start={today - datetime.timedelta(days=89)}&end={today}"
        dashboard = reverse("dashboard")

        def export(table: str) -> str:
            return reverse("dashboard_export", args=[table])

        # Search words from a lead half-way through the table: its company (a few hundred leads at 1M),
        # its name (one lead), and the company's first word (every lead shares it in a seed_scale fill).
        middle = Lead.objects.filter(pk__gte=(Lead.objects.aggregate(Max("pk"))["pk__max"] or 0) // 2).order_by("pk")
        found = middle.values("full_name", "company").first()
        lead_list = reverse("campaigns:leads")
        return [
            ("campaigns list", marketer, reverse("campaigns:list")),
            (f"campaign results ({campaign_leads:,} leads)", marketer, reverse("campaigns:detail", args=[campaign])),
            ("SLA dashboard, this month", manager, dashboard),
            ("SLA dashboard, last month", manager, f"{dashboard}?period=last_month"),
            ("SLA dashboard, this quarter", manager, f"{dashboard}?period=this_quarter"),
            ("SLA dashboard, custom 90 days", manager, f"{dashboard}?{ninety_days}"),
            # Each CSV is the whole table (every rep, every campaign); the table page one page of it.
            ("SLA dashboard, reps CSV, this quarter", manager, f"{export('reps')}?period=this_quarter"),
            ("SLA dashboard, reps CSV, custom 90 days", manager, f"{export('reps')}?{ninety_days}"),
            ("SLA dashboard, campaigns CSV, this quarter", manager, f"{export('marketing')}?period=this_quarter"),
            (
                "SLA dashboard, all reps page, this quarter",
                manager,
                reverse("dashboard_table", args=["reps"]) + "?period=this_quarter",
            ),
            ("teams", manager, reverse("leads:teams")),
            (f"My leads ({busiest['n']:,} open)", rep, reverse("leads:mine")),
            ("queue sorted by score", rep, reverse("leads:queue") + "?order=score"),
            ("queue (default)", rep, reverse("leads:queue")),
            (f"lead detail ({events} events)", manager, reverse("leads:detail", args=[1])),
            ("targets", manager, reverse("leads:targets")),
            ("lead list", marketer, lead_list),
            (
                f"lead list search, a company ({found['company']})",
                marketer,
                f"{lead_list}?{urlencode({'search': found['company']})}",
            ),
            (
                f"lead list search, a name ({found['full_name']})",
                marketer,
                f"{lead_list}?{urlencode({'search': found['full_name']})}",
            ),
            (
                "lead list search, a word every lead shares",
                marketer,
                f"{lead_list}?{urlencode({'search': found['company'].split()[0]})}",
            ),
        ]

    def _begin(self, name: str, requests: int, only: str) -> Run:
        from leads.queries import queue

        if not get_user_model().objects.filter(username="scale-marketer").exists():
            raise CommandError(f"{name} was not filled by seed_scale.")
        # The claims take waiting leads for good (two per request): checked before anything is timed.
        if not only and (waiting := queue().count()) < 2 * requests:
            raise CommandError(
                f"{name}: {waiting} leads wait in the queue and the claims take {2 * requests}: fill it again "
                "with seed_scale (a 10,000-lead fill's queue of 40 serves one run of 15 requests), or pass --only."
            )
        return Run(
            database=name,
            leads=Lead.objects.count(),
            events=LeadEvent.objects.count(),
            deadlines=Deadline.objects.count(),
            running=Deadline.objects.running().count(),
        )

    def _signed_in(self, only: str) -> list[tuple[str, Client, str]]:
        """(label, a test client signed in as the page's user, URL) of each page `only` keeps, matched
        against the label's words before its figures in brackets ("campaign results (1,411 leads)"):
        every database keeps the same pages, in the same order."""
        pages = []
        for label, user, url in self._pages():
            if only.lower() in label.split(" (")[0].lower():
                client = Client()
                client.force_login(user)
                pages.append((label, client, url))
        return pages

    def _claims_into(self, run: Run, requests: int) -> None:
        run.pages["claim POST (test client)"], run.pages["claim service"] = self._time_claims(requests)
        for label in ("claim POST (test client)", "claim service"):
            self.stdout.write(f"  {label}: p50 {run.pages[label].p50:.1f} ms, {run.pages[label].queries} queries")

    def _run(self, name: str, requests: int, only: str = "") -> Run:
        """Every page of the database `name` through the test client, one after the other."""
        run = self._begin(name, requests, only)
        load_before = os.getloadavg()[0]
        for label, client, url in self._signed_in(only):
            run.pages[label] = self._time(client, requests, lambda c=client, u=url: c.get(u, secure=True))
            self.stdout.write(f"  {label}: p50 {run.pages[label].p50:.1f} ms")
        if not only:
            self._claims_into(run, requests)
        run.load = (load_before, os.getloadavg()[0])
        return run

    def _run_over_http(self, names: list[str], requests: int, only: str) -> list[Run]:
        """Every page over HTTP, the databases taking turns request by request (each on its own server,
        `self.port` + its place), then each page's queries through the test client, database by database."""
        runs, signed_in = [], []
        for name in names:
            self._use(name)
            runs.append(self._begin(name, requests, only))
            signed_in.append(self._signed_in(only))
        kept = [[label.split(" (")[0] for label, _, _ in pages] for pages in signed_in]
        if any(labels != kept[0] for labels in kept):
            raise CommandError(f"the databases' pages differ: {kept}")
        load_before = os.getloadavg()[0]
        samples: list[dict[str, list[float]]] = [{} for _ in names]
        for position, (label, _, _) in enumerate(signed_in[0]):
            timed = []
            for offset, pages in enumerate(signed_in):
                page_label, client, url = pages[position]
                session = client.cookies[settings.SESSION_COOKIE_NAME].value
                timed.append(functools.partial(self._http_get, url, session, self.port + offset))
                for _ in range(2):  # warm-ups
                    if (status := timed[-1]()[0]) != 200:
                        raise CommandError(f"{status} over HTTP from {url} ({names[offset]})")
            for offset in range(len(names)):
                samples[offset][signed_in[offset][position][0]] = []
            for _ in range(requests):
                for offset, get in enumerate(timed):
                    started = time.perf_counter()
                    get()
                    samples[offset][signed_in[offset][position][0]].append((time.perf_counter() - started) * 1000)
            self.stdout.write(
                f"  {label}: p50 "
                + " / ".join(
                    f"{statistics.median(samples[o][signed_in[o][position][0]]):.1f}" for o in range(len(names))
                )
                + " ms"
            )
        load_after = os.getloadavg()[0]
        for offset, name in enumerate(names):
            self._use(name)
            run = runs[offset]
            for label, client, url in signed_in[offset]:
                run.pages[label] = self._time(
                    client, requests, lambda c=client, u=url: c.get(u, secure=True), samples=samples[offset][label]
                )
            if not only:
                self.stdout.write(f"{name}:")
                self._claims_into(run, requests)
            run.load = (load_before, load_after)
        return runs

    def _time(self, client: Client, requests: int, request, samples: list[float] | None = None) -> Timing:
        """`request` (the test client) timed `requests` times after two warm-ups, unless `samples` were
        taken already (over HTTP); then the queries of one more `request`."""
        for _ in range(2):
            response = request()
            if response.status_code != 200:
                raise CommandError(f"{response.status_code} from {response.request['PATH_INFO']}")
        if samples is None:
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                request()
                samples.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            response = request()
        heaviest = max(captured.captured_queries, key=lambda query: float(query["time"]))
        p50, p95 = _percentiles(samples)
        return Timing(
            p50=p50,
            p95=p95,
            queries=len(captured),
            heaviest_ms=float(heaviest["time"]) * 1000,
            floor_ms=self._floor(heaviest["sql"], requests),
            heaviest_sql=heaviest["sql"],
            sql_ms=sum(float(query["time"]) for query in captured.captured_queries) * 1000,
            kilobytes=len(response.content) // 1024,
        )

    def _floor(self, sql: str, runs: int) -> float:
        # A queryset read with .iterator() is a named server-side cursor: time its query instead, since
        # declaring the same cursor again fails.
        if sql.startswith("DECLARE "):
            sql = sql.split(" FOR ", 1)[1]
        samples = []
        with connection.cursor() as cursor:
            for _ in range(runs):
                started = time.perf_counter()
                cursor.execute(sql)
                if cursor.description:
                    cursor.fetchall()
                samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    def _time_claims(self, requests: int) -> tuple[Timing, Timing]:
        """A rep with room claims the most urgent waiting lead, `requests` times through the claim POST
        (signed in beforehand; the redirect it answers is not followed) and `requests` times by calling
        the service alone (`services.lead_claim`), alternately. Each timing carries the statements one
        claim makes and the slowest of them."""

        # The rep with most room, given room for every claim here (reps have realistic capacities now);
        # their capacity is put back afterwards.
        profile = min(
            RepProfile.objects.filter(user__username__startswith="scale-rep-"),
            key=lambda p: Lead.objects.filter(owner=p.user_id, status__in=Lead.WORKED_BY_SALES).count() - p.capacity,
        )
        rep, capacity = profile.user, profile.capacity
        RepProfile.objects.filter(pk=profile.pk).update(capacity=capacity + 2 * requests)
        try:
            return self._claims(rep, requests)
        finally:
            RepProfile.objects.filter(pk=profile.pk).update(capacity=capacity)

    def _claims(self, rep, requests: int) -> tuple[Timing, Timing]:
        from leads.queries import queue
        from leads.services import lead_claim

        client = Client()
        client.force_login(rep)

        def post(lead: Lead) -> None:
            response = client.post(reverse("leads:claim", args=[lead.pk]), secure=True)
            if response.status_code != 302:
                raise CommandError(f"claim answered {response.status_code}")

        timings = []
        for claim in (post, lambda lead: lead_claim(lead=lead, rep=rep)):
            samples = []
            for _ in range(requests):
                lead = Lead.objects.get(pk=queue().values_list("lead_id", flat=True).first())
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    claim(lead)
                    samples.append((time.perf_counter() - started) * 1000)
            p50, p95 = _percentiles(samples)
            heaviest = max(captured.captured_queries, key=lambda query: float(query["time"]))
            timings.append(
                Timing(
                    p50=p50,
                    p95=p95,
                    queries=len(captured),
                    heaviest_ms=float(heaviest["time"]) * 1000,
                    heaviest_sql=heaviest["sql"],
                    sql_ms=sum(float(query["time"]) for query in captured.captured_queries) * 1000,
                    kilobytes=None,
                )
            )
        return timings[0], timings[1]

    def _table(self, runs: list[Run], requests: int) -> str:
        sizes = " and ".join(
            f"{run.leads:,} leads ({run.events:,} events, {run.deadlines:,} deadlines of which {run.running:,} running)"
            for run in runs
        )
        first, last = runs[0], runs[-1]
        lines = [
            f"Pages at {sizes}; {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.machine()} with "
            f"{os.cpu_count()} cores ({platform.node()}; CPU check {cpu_check():.0f} ms: the machines differ, "
            "the figures of two compare only beside it), "
            + (
                "real HTTP against gunicorn (handoff/gunicorn.conf.py), a new connection per request, the "
                "sizes taking turns request by request"
                if self.port
                else "test client"
            )
            + f", {requests} requests per page after two warm-ups, DEBUG off; load average (1 min) "
            + (
                f"{first.load[0]:.1f}–{first.load[1]:.1f}"
                if self.port
                else ", ".join(f"{run.load[0]:.1f}–{run.load[1]:.1f} at {run.leads:,}" for run in runs)
            )
            + ": a figure taken while other work shares the cores is pessimistic.",
            "",
            f"| page | p50 / p95 at {first.leads:,} | p50 / p95 at {last.leads:,} | ratio | queries "
            f"| all SQL at {last.leads:,} | heaviest query at {last.leads:,} | its raw-SQL floor | HTML |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for small_label, small in first.pages.items():
            label, large = next(
                (label, timing)
                for label, timing in last.pages.items()
                if label.split(" (")[0] == small_label.split(" (")[0]
            )
            ratio = large.p50 / small.p50 if small.p50 else 0
            lines.append(
                f"| {label} | {small.p50:.1f} / {small.p95:.1f} ms | {large.p50:.1f} / {large.p95:.1f} ms "
                f"| {ratio:.2f}× | {small.queries} → {large.queries} | {large.sql_ms:.1f} ms "
                f"| {large.heaviest_ms:.1f} ms "
                + (
                    f"| {large.floor_ms:.1f} ms | {large.kilobytes} KB |"
                    if large.kilobytes is not None
                    else "| — | — |"
                )
            )
        return "\n".join(lines) + "\n"
