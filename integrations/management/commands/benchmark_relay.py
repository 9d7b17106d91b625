"""What the outbox costs the SLA sweep, and how fast the relay empties it: `manage.py benchmark_relay`.

On a throwaway database (refuses one with real leads; the rows stay) and a Redis database of its own
(the sweep's after-commit tasks land there): fills `--deadlines` due claim deadlines and sweeps them
with nobody subscribed; fills as many again, connects one webhook endpoint (subscribed to breaches) and
one team Slack channel, both a local receiver on 127.0.0.1, and sweeps them; then times the relay's
fan-out (outbox rows into deliveries, the channel's storm held back) and its sending.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_relay_bench REDIS_URL=redis://127.0.0.1:6379/11
    ./.venv/bin/python manage.py preflight && ./.venv/bin/python manage.py migrate
    INTEGRATIONS_ALLOW_LOOPBACK=1 ./.venv/bin/python manage.py benchmark_relay --deadlines 5000
"""

import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.fills import claim_deadlines_fill, refuse_real_data
from enforcement.sweep import sweep_deadlines
from integrations import local_receiver
from integrations.models import Alert, Channel, Delivery, Endpoint, EventType, OutboxEvent, Storm
from integrations.relay import deliveries_send, outbox_fan_out, storms_summarise
from leads.models import SalesTeam

CAMPAIGN = "Relay benchmark"


def _timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


class Command(BaseCommand):
    help = "Time the SLA sweep with and without outbox subscribers, and the relay's fan-out and sending."

    def add_arguments(self, parser):
        parser.add_argument("--deadlines", type=int, default=5000)

    def handle(self, *args, deadlines: int, **options):
        if why := refuse_real_data(CAMPAIGN):
            raise CommandError(why)
        receiver, server = local_receiver.start()
        try:
            self._run(deadlines, receiver)
        finally:
            server.shutdown()
            server.server_close()

    def _sweep(self, count: int) -> tuple[float, int]:
        claim_deadlines_fill(campaign_name=CAMPAIGN, count=count, due=timezone.now() - timedelta(hours=1))
        return _timed(sweep_deadlines)

    def _run(self, count: int, receiver) -> None:
        Endpoint.objects.all().delete()
        Channel.objects.all().delete()
        seconds, breached = self._sweep(count)
        self.stdout.write(f"sweep, nobody subscribed: {breached:,} breaches in {seconds:.2f} s")
        assert not OutboxEvent.objects.exists()

        someone = get_user_model().objects.get_or_create(username="relay-benchmark")[0]
        Endpoint.objects.create(
            name="Benchmark", url=receiver.url("/hook"), events=[EventType.DEADLINE_BREACHED], created_by=someone
        )
        team = SalesTeam.objects.get_or_create(name="Relay benchmark")[0]
        Channel.objects.create(
            kind=Channel.Kind.SLACK,
            name="#bench",
            url=receiver.url("/slack"),
            team=team,
            alerts=[Alert.BREACHES, Alert.STORM_SUMMARIES],
            created_by=someone,
        )
        seconds, breached = self._sweep(count)
        outbox = OutboxEvent.objects.count()
        self.stdout.write(f"sweep, an endpoint and a channel subscribed: {breached:,} breaches in {seconds:.2f} s")
        self.stdout.write(f"  outbox rows written in the sweep's transactions: {outbox:,}")

        seconds, taken = _timed(outbox_fan_out)
        made = Delivery.objects.count()
        held = sum(Storm.objects.values_list("held", flat=True))
        self.stdout.write(
            f"fan-out: {taken:,} outbox rows into {made:,} deliveries in {seconds:.2f} s "
            f"({taken / seconds:,.0f} rows/s); the channel's storm held {held:,} alerts back"
        )
        later = timezone.now() + timedelta(minutes=10)  # the storm has been quiet long enough
        storms_summarise(now=later)
        seconds, attempts = _timed(lambda: deliveries_send(now=later))
        delivered = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
        self.stdout.write(
            f"sending: {attempts:,} attempts, {delivered:,} delivered in {seconds:.2f} s "
            f"({attempts / seconds:,.0f}/s, one process, one request at a time); "
            f"received: endpoint {len(receiver.to('/hook')):,}, channel {len(receiver.to('/slack')):,}"
        )
