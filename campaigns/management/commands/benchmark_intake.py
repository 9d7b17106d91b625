"""Load the web-to-lead intake of a running server: `manage.py benchmark_intake --url http://127.0.0.1:8601`.

Issues a fresh token for the campaign (`--campaign`, default the newest), then for each number of
`--clients` (e.g. `--clients 8 32`) that many clients post `--posts` new leads in all (unique
addresses, each with an Idempotency-Key) and it reports posts per second, the answers by status,
p50/p95/p99 latency, the 1-minute load average before and after, and the generator's own CPU a post.
Each post opens a new connection and closes it, as a landing page's server or a reverse proxy in front
of gunicorn does (`--keep-alive` reuses one connection per client instead). Meanwhile a sampler reads
`pg_stat_activity` every 100 ms (`--sample-ms`) and counts what the database's active client backends
were doing: on the CPU, or waiting on what (`Lock:transactionid`: a row another transaction holds;
`IO:WALSync`: a commit's flush). Lock waits are given as a share of all sampled active backends.

The clients are coroutines of one asyncio loop in this one process, speaking HTTP/1.1 over raw
sockets, with every request encoded before the clock starts: the generator shares the machine's
cores with the server, so it must cost the same little a post whatever the number of clients (32
Python threads with `http.client` cost more a post than 8, and fought the server for the CPU).

Run it against a throwaway database with the rate limits raised, e.g.:

    DEBUG=0 PLAIN_HTTP=1 SECRET_KEY=x ALLOWED_HOSTS=127.0.0.1 GUNICORN_BIND=127.0.0.1:8601 \\
      INTAKE_RATE_PER_IP=1000000 INTAKE_RATE_PER_CAMPAIGN=1000000 DATABASE_URL=… \\
      .venv/bin/gunicorn -c handoff/gunicorn.conf.py handoff.wsgi
    DATABASE_URL=… .venv/bin/python manage.py benchmark_intake --url http://127.0.0.1:8601 --clients 8 32
"""

import asyncio
import json
import os
import socket
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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
TIMEOUT = 30


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


def encoded_posts(*, host: str, path: str, token: str, run: str, posts: int, keep_alive: bool) -> list[bytes]:
    """Every post of a run as the bytes of its HTTP/1.1 request: a new lead each, with its own key."""
    requests = []
    for i in range(posts):
        body = json.dumps({"name": f"Load {i}", "email": f"load-{run}-{i}@example.com", "company": "Load"}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: {run}-{i}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        requests.append(head.encode("latin-1") + body)
    return requests


async def answer_of(loop, sock: socket.socket, buffer: bytearray) -> tuple[int, bool]:
    """Read one HTTP/1.1 answer from `sock` (its body by Content-Length; what follows stays in `buffer`):
    its status, and whether the connection stays open."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        buffer += await _received(loop, sock)
    lines = buffer[:end].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
    length = end + 4 + int(headers.get("content-length", "0"))
    while len(buffer) < length:
        buffer += await _received(loop, sock)
    del buffer[:length]
    return status, headers.get("connection", "").strip() != "close"


async def _received(loop, sock: socket.socket) -> bytes:
    data = await loop.sock_recv(sock, 65536)
    if not data:
        raise ConnectionResetError("the server closed the connection mid-answer")
    return data


async def post_all(host: str, port: int, requests: list[bytes], *, clients: int, keep_alive: bool):
    """Post `requests` from `clients` coroutines (client n posts n, n + clients, …): statuses and latencies (ms).

    Plain non-blocking sockets on the loop (no streams, no task per timeout): the least Python a post."""
    loop = asyncio.get_running_loop()
    # The address looked up once, not at every connect.
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    statuses: Counter = Counter()
    latencies: list[float] = []

    async def client(number: int) -> None:
        sock, buffer = None, bytearray()
        for request in requests[number::clients]:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(TIMEOUT):
                    if sock is None:
                        sock = socket.socket(family, kind, proto)
                        sock.setblocking(False)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        await loop.sock_connect(sock, address)
                    await loop.sock_sendall(sock, request)
                    status, stays_open = await answer_of(loop, sock, buffer)
            except (OSError, TimeoutError, ValueError, IndexError):
                status, stays_open = "error", False
            statuses[status] += 1
            latencies.append((time.perf_counter() - started) * 1000)
            if sock is not None and not (keep_alive and stays_open):
                sock.close()
                sock, buffer = None, bytearray()
        if sock is not None:
            sock.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return statuses, latencies


def in_own_thread(coroutine):
    """Run `coroutine` to its end on a new event loop in a thread of its own and return its result: the
    caller's thread may already run a loop (a test suite, a shell), where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Command(BaseCommand):
    help = "Post many new leads to a running server's intake endpoint and report the rate and the database's waits."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="base URL of the running server")
        parser.add_argument("--campaign", type=int, default=None)
        parser.add_argument("--posts", type=int, default=3000)
        parser.add_argument("--clients", type=int, nargs="+", default=[8], help="one run per number given")
        parser.add_argument("--sample-ms", type=int, default=100, help="pg_stat_activity sampling interval")
        parser.add_argument(
            "--keep-alive", action="store_true", help="each client reuses one connection (default: one per post)"
        )

    def handle(self, *, url, campaign, posts, clients, sample_ms, keep_alive, **options):
        target = Campaign.objects.get(pk=campaign) if campaign else Campaign.objects.order_by("-pk").first()
        token = target.rotate_intake_token()
        path = reverse("campaigns:intake", args=[target.intake_key])
        base = urlsplit(url)
        for count in clients:
            requests = encoded_posts(
                host=base.netloc, path=path, token=token, run=uuid.uuid4().hex[:8], posts=posts, keep_alive=keep_alive
            )
            self._run(base, requests, clients=count, keep_alive=keep_alive, every=sample_ms / 1000)

    def _run(self, base, requests: list[bytes], *, clients: int, keep_alive: bool, every: float) -> None:
        posts = len(requests)
        load_before = os.getloadavg()[0]
        waits: Counter = Counter()
        stop = threading.Event()
        sampler = threading.Thread(target=sample_waits, args=(stop, every, waits))
        sampler.start()
        try:
            cpu_started, started = time.process_time(), time.perf_counter()
            statuses, latencies = in_own_thread(
                post_all(base.hostname, base.port or 80, requests, clients=clients, keep_alive=keep_alive)
            )
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            # Whatever happened, the sampler stops and closes its database connection.
            stop.set()
            sampler.join()
        latencies.sort()

        def percentile(p: float) -> float:
            return latencies[max(0, int(len(latencies) * p) - 1)]

        samples = waits.pop("(samples)", 0)
        backends = sum(waits.values())
        locks = sum(n for event, n in waits.items() if event.startswith("Lock:"))
        connection = "one connection per client" if keep_alive else "a new connection per post"
        self.stdout.write(
            f"{clients} clients ({connection}), {posts:,} posts in {elapsed:.1f} s: {posts / elapsed:.0f} posts/s; "
            f"answers {dict(statuses)}; latency p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(0.95):.1f} ms, p99 {percentile(0.99):.1f} ms; "
            f"load (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
            f"generator CPU {1000 * cpu / posts:.2f} ms a post"
        )
        listed = ", ".join(f"{event} {n}" for event, n in waits.most_common())
        share = f"{100 * locks / backends:.1f} %" if backends else "—"
        self.stdout.write(
            f"  PostgreSQL, {samples} samples every {every * 1000:.0f} ms: {backends} active backends seen ({listed}); "
            f"lock waits {locks} = {share} of sampled backends"
        )
