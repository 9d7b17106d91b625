"""Load the web-to-lead intake of a running server: `manage.py benchmark_intake --url http://127.0.0.1:8011`.

Issues a fresh token for the campaign (`--campaign`, default the newest), then `--clients` threads
post `--posts` new leads in all (unique addresses, each with an Idempotency-Key) over keep-alive
connections, and reports posts per second, the answers by status and p50/p95 latency. Run it against
a throwaway database with the rate limits raised (INTAKE_RATE_PER_IP, INTAKE_RATE_PER_CAMPAIGN in the
server's environment), e.g. with gunicorn:

    DEBUG=0 SECRET_KEY=x ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 INTAKE_RATE_PER_IP=1000000 \\
      INTAKE_RATE_PER_CAMPAIGN=1000000 DATABASE_URL=… .venv/bin/gunicorn handoff.wsgi -w 2 -b 127.0.0.1:8011
    DATABASE_URL=… .venv/bin/python manage.py benchmark_intake --url http://127.0.0.1:8011
"""

import http.client
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand
from django.urls import reverse

from campaigns.models import Campaign


class Command(BaseCommand):
    help = "Post many new leads to a running server's intake endpoint and report the rate."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="base URL of the running server")
        parser.add_argument("--campaign", type=int, default=None)
        parser.add_argument("--posts", type=int, default=3000)
        parser.add_argument("--clients", type=int, default=8)

    def handle(self, *, url: str, campaign: int | None, posts: int, clients: int, **options):
        target = Campaign.objects.get(pk=campaign) if campaign else Campaign.objects.order_by("-pk").first()
        token = target.rotate_intake_token()
        path = reverse("campaigns:intake", args=[target.intake_key])
        base = urlsplit(url)
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

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        latencies.sort()
        self.stdout.write(
            f"{posts:,} posts from {clients} clients in {elapsed:.1f} s: {posts / elapsed:.0f} posts/s; "
            f"answers {dict(statuses)}; latency p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms"
        )
