"""Time the SLA sweep with nothing due over many running deadlines: `manage.py benchmark_sweep`.

Fills the database with `--deadlines` running claim clocks (leads in the queue, one handoff each, due
a year from now, in bulk SQL), then times, `--runs` times each: the sweep as beat runs it (its one
query, the heartbeat, the transaction) and the raw-SQL floor (the same SELECT … FOR UPDATE SKIP
LOCKED on a bare cursor). Use a throwaway database: the rows stay unless --clean.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_bench ./.venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_bench ./.venv/bin/python manage.py benchmark_sweep
"""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign
from handoff.models import Deadline, SlaPolicy
from handoff.sweep import sweep_deadlines

FILL = """
WITH new_leads AS (
    INSERT INTO leads_lead (campaign_id, full_name, email, company, phone, job_title, status, score,
                            source, capture_count, score_overridden, hold_reason, created_at, status_changed_at)
    SELECT %(campaign)s, 'Bench ' || g, 'bench-' || %(tag)s || '-' || g || '@example.com', '', '', '',
           'handed_off', 60, 'manual', 1, false, '', now(), now()
    FROM generate_series(1, %(count)s) AS g
    RETURNING id
), new_handoffs AS (
    INSERT INTO handoff_handoff (lead_id, handed_off_by_id, handed_off_at, note, policy_id, return_reason, outcome)
    SELECT id, %(user)s, now(), '', %(policy)s, '', '' FROM new_leads
    RETURNING id, lead_id
)
INSERT INTO handoff_deadline (handoff_id, lead_id, kind, policy_id, priority, starts_at, allowed,
                              given_due_at, due_at, warn_at, paused_for)
SELECT id, lead_id, 'claim', %(policy)s, 'warm', now(), interval '4 hours',
       now() + interval '1 year' + (random() * interval '30 days'),
       now() + interval '1 year' + (random() * interval '30 days'),
       now() + interval '300 days', interval '0'
FROM new_handoffs
"""


def _timings(run, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


class Command(BaseCommand):
    help = "Time the SLA sweep with nothing due over many running deadlines (use a throwaway database)."

    def add_arguments(self, parser):
        parser.add_argument("--deadlines", type=int, default=1_000_000)
        parser.add_argument("--runs", type=int, default=200)

    def handle(self, *, deadlines: int, runs: int, **options):
        running = Deadline.objects.running().count()
        if running < deadlines:
            self._fill(deadlines - running)
        now = timezone.now()
        with transaction.atomic():
            sql, params = (
                Deadline.objects.sweepable(now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at")[:200]
                .query.sql_with_params()
            )

        def floor():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        sweep_deadlines()  # warm the caches and the connection
        floor()
        sweep_median, sweep_p95 = _timings(sweep_deadlines, runs)
        floor_median, floor_p95 = _timings(floor, runs)
        self.stdout.write(
            f"{Deadline.objects.running().count():,} running deadlines, nothing due, {runs} runs each\n"
            f"sweep:          median {sweep_median:.2f} ms, p95 {sweep_p95:.2f} ms\n"
            f"raw-SQL floor:  median {floor_median:.2f} ms, p95 {floor_p95:.2f} ms\n"
            f"ratio (median): {sweep_median / floor_median:.1f}x"
        )

    def _fill(self, count: int) -> None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get_or_create(username="benchmark")[0]
        campaign = Campaign.objects.filter(name="Benchmark").first() or Campaign.objects.create(
            name="Benchmark", owner=user, channel=Campaign.Channel.EMAIL, start_date=timezone.localdate()
        )
        policy = SlaPolicy.current()
        tag = str(int(time.time()))
        self.stdout.write(f"Adding {count:,} running claim deadlines…")
        for start in range(0, count, 100_000):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    FILL,
                    {
                        "campaign": campaign.pk,
                        "user": user.pk,
                        "policy": policy.pk,
                        "count": min(100_000, count - start),
                        "tag": f"{tag}-{start}",
                    },
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE leads_lead; ANALYZE handoff_handoff; ANALYZE handoff_deadline")
