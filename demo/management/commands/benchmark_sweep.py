"""Time the SLA sweep with nothing due over many deadlines, most of them met: `manage.py benchmark_sweep`.

Fills the database with `--deadlines` claim deadlines (a lead in the queue and a handoff each, in bulk
SQL): `--met-percent` of them met in the past year, as on a real database where met deadlines keep
their past due and warning times; the rest running, due a year from now. Then times, `--runs` times
each: the sweep as beat runs it (its two queries, the heartbeat, the transaction) and the raw-SQL
floor (the same two SELECT … FOR UPDATE SKIP LOCKED on a bare cursor), and prints the plans. Refuses a
database with leads of real campaigns; the rows stay.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_bench ./.venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_bench ./.venv/bin/python manage.py benchmark_sweep
"""

import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from demo.fills import claim_deadlines_fill, refuse_real_data
from enforcement.sweep import breach_batch_query, sweep_deadlines, warning_batch_query
from sla.models import Deadline

CAMPAIGN = "Sweep benchmark"


def _timings(run, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


class Command(BaseCommand):
    help = "Time the SLA sweep with nothing due over many deadlines, most met (use a throwaway database)."

    def add_arguments(self, parser):
        parser.add_argument("--deadlines", type=int, default=1_000_000)
        parser.add_argument("--met-percent", type=float, default=75.0)
        parser.add_argument("--runs", type=int, default=200)

    def handle(self, *, deadlines: int, met_percent: float, runs: int, **options):
        if refusal := refuse_real_data(CAMPAIGN):
            raise CommandError(refusal)
        missing = deadlines - Deadline.objects.count()
        if missing > 0:
            self.stdout.write(f"Adding {missing:,} claim deadlines ({met_percent:g} % met)…")
            now = timezone.now()
            claim_deadlines_fill(
                campaign_name=CAMPAIGN,
                count=missing,
                due=now + timedelta(days=365),
                spread=timedelta(days=30),
                warn=now + timedelta(days=300),
                met_percent=met_percent,
            )
        queries = []
        with transaction.atomic():
            for build in (breach_batch_query, warning_batch_query):
                batch = build(timezone.now(), settings.SLA_SWEEP_BATCH_SIZE).select_for_update(
                    skip_locked=True, of=("self",)
                )
                queries.append(batch.values("pk").query.sql_with_params())
                self.stdout.write(batch.explain(analyze=True) + "\n")

        def floor():
            with transaction.atomic(), connection.cursor() as cursor:
                for sql, params in queries:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        sweep_deadlines()  # warm the caches and the connection
        floor()
        sweep_median, sweep_p95 = _timings(sweep_deadlines, runs)
        floor_median, floor_p95 = _timings(floor, runs)
        self.stdout.write(
            f"{Deadline.objects.count():,} deadlines, {Deadline.objects.running().count():,} running, "
            f"nothing due, {runs} runs each\n"
            f"sweep:          median {sweep_median:.2f} ms, p95 {sweep_p95:.2f} ms\n"
            f"raw-SQL floor:  median {floor_median:.2f} ms, p95 {floor_p95:.2f} ms\n"
            f"ratio (median): {sweep_median / floor_median:.1f}x"
        )
