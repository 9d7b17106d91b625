"""Load the web-to-lead intake of a running server: `manage.py benchmark_intake --url http://127.0.0.1:8601`.

Issues a fresh token for the campaign (`--campaign`, default the newest), then for each number of
`--clients` (e.g. `--clients 8 32`) that many threads post `--posts` new leads in all (unique
addresses, each with an Idempotency-Key), each over its own keep-alive connection, and reports posts
per second, the answers by status, p50/p95/p99 latency and the 1-minute load average before and
after. Meanwhile a sampler reads `pg_stat_activity` every 100 ms (`--sample-ms`) and counts what the
database's active client backends were doing: on the CPU, or waiting on what (`Lock:transactionid`:
a row another transaction holds; `IO:WALSync`: a commit's flush). Lock waits are given as a share of
all sampled active backends. Run it against a throwaway database with the rate limits raised, e.g.:

    DEBUG=0 PLAIN_HTTP=1 SECRET_KEY=x ALLOWED_HOSTS=127.0.0.1 GUNICORN_BIND=127.0.0.1:8601 \\
      INTAKE_RATE_PER_IP=1000000 INTAKE_RATE_PER_CAMPAIGN=1000000 DATABASE_URL=… \\
      .venv/bin/gunicorn -c handoff/gunicorn.conf.py handoff.wsgi
    DATABASE_URL=… .venv/bin/python manage.py benchmark_intake --url http://127.0.0.1:8601 --clients 8 32
"""

import http.client
import json
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand
from django.db import connections
from django.urls import reverse

from campaigns.models import Campaign

# What the database's other client backends are doing right now (not idle, not this sampler).
ACTIVITY = """
SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU')
  FROM pg_stat_activity
 WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
   AND state NOT IN ('idle')
"""


def sample_waits(stop: threading.Event, every: float, found: Counter) -> None:
    """Count the active backends' wait events every `every` seconds until `stop` (a thread of its own,
    so a connection of its own)."""
    try:
        with connections["default"].cursor() as cursor:
            while not stop.wait(every):
                cursor.execute(ACTIVITY)
                found.update(row[0] for row in cursor.fetchall())
                found["(samples)"] += 1
    finally:
        connections["default"].close()


class Command(BaseCommand):
    help = "Post many new leads to a running server's intake endpoint and report the rate and the database's waits."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="base URL of the running server")
        parser.add_argument("--campaign", type=int, default=None)
        parser.add_argument("--posts", type=int, default=3000)
        parser.add_argument("--clients", type=int, nargs="+", default=[8], help="one run per number given")
        parser.add_argument("--sample-ms", type=int, default=100, help="pg_stat_activity sampling interval")

    def handle(self, *, url: str, campaign: int | None, posts: int, clients: list[int], sample_ms: int, **options):
        target = Campaign.objects.get(pk=campaign) if campaign else Campaign.objects.order_by("-pk").first()
        token = target.rotate_intake_token()
        path = reverse("campaigns:intake", args=[target.intake_key])
        for count in clients:
            self._run(urlsplit(url), path, token, posts=posts, clients=count, every=sample_ms / 1000)

    def _run(self, base, path: str, token: str, *, posts: int, clients: int, every: float) -> None:
        run = uuid.uuid4().hex[:8]
        statuses: Counter = Counter()
        latencies: list[float] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
            for i in range(number, posts, clients):
                body = json.dumps({"name": f"Load {i}", "email": f"load-{run}-{i}@example.com", "company": "Load"})
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"{run}-{i}",
                }
                started = time.perf_counter()
                try:
                    connection.request("POST", path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
                    status = "error"
                with lock:
                    statuses[status] += 1
                    latencies.append((time.perf_counter() - started) * 1000)
            connection.close()

        load_before = os.getloadavg()[0]
        waits: Counter = Counter()
        stop = threading.Event()
        sampler = threading.Thread(target=sample_waits, args=(stop, every, waits))
        sampler.start()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        latencies.sort()

        def percentile(p: float) -> float:
            return latencies[max(0, int(len(latencies) * p) - 1)]

        samples = waits.pop("(samples)", 0)
        backends = sum(waits.values())
        locks = sum(n for event, n in waits.items() if event.startswith("Lock:"))
        self.stdout.write(
            f"{clients} clients, {posts:,} posts in {elapsed:.1f} s: {posts / elapsed:.0f} posts/s; "
            f"answers {dict(statuses)}; latency p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(0.95):.1f} ms, p99 {percentile(0.99):.1f} ms; "
            f"load (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        listed = ", ".join(f"{event} {n}" for event, n in waits.most_common())
        share = f"{100 * locks / backends:.1f} %" if backends else "—"
        self.stdout.write(
            f"  PostgreSQL, {samples} samples every {every * 1000:.0f} ms: {backends} active backends seen ({listed}); "
            f"lock waits {locks} = {share} of sampled backends"
        )
