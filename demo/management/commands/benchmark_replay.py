"""Time a replay of a draft on the last four weeks at the scale of a million leads: `manage.py benchmark_replay`.

A month at a million leads is about 200,000 deadlines. The fill (a throwaway database; it refuses one
with leads of other campaigns) writes `--handoffs` hand-offs in the last 28 days, each with a claim and
a first-contact deadline (so 100,000 make 200,000 deadlines), in bulk SQL: leads of every tier, 40
reps in four teams (two with calendars of their own: New York, and Singapore), claims and first
contacts met after a random share of their time (about a third late), and 3 % of the leads on hold for
a while after the claim. Then it replays a draft with tighter hot-lead times on the four weeks, running
`replays.services.replay_run` — what the worker's task runs — and prints the time, the rate, the CPU
time the process itself spent (Python is most of the work: on a busy machine the wall time is mostly
waiting for a core) and the flips. Run again on the same database, it replays again without filling.
The rows stay (drop the database).

    createdb -h 127.0.0.1 -U postgres handoff_replay_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_replay_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_replay_bench .venv/bin/python manage.py benchmark_replay
"""

import os
import time
from datetime import time as wall
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from demo.fills import fill_campaign, refuse_real_data
from leads.models import RepProfile, SalesTeam
from replays.models import Replay
from replays.services import replay_request, replay_run
from sla import agreement
from sla.models import BusinessCalendar, Deadline, OpeningHours, SlaPolicy

CAMPAIGN = "Replay benchmark"
REPS = 40
CHUNK = 50_000

# One chunk of hand-offs in the last 28 days: a lead, a closed handoff, its claim and first-contact
# deadlines (due after the policy's hours of its tier, in plain hours: the fill's times need not be
# business time, the replay works each one out again), and for 3 % a hold after the claim. PostgreSQL
# runs every data-modifying CTE whether or not the statement reads it.
_FILL = """
WITH new_leads AS (
    INSERT INTO leads_lead (campaign_id, full_name, email, company, phone, job_title, status, score,
                            source, capture_count, score_overridden, hold_reason, created_at, status_changed_at)
    SELECT %(campaign)s, 'Replay ' || g, 'replay-' || %(tag)s || '-' || g || '@example.com', 'Replay Ltd', '', '',
           'contacted', (10 + floor(random() * 90))::int, 'manual', 1, false, '', now(), now()
    FROM generate_series(1, %(count)s) AS g
    RETURNING id, score
), planned AS (
    SELECT id AS lead_id,
           now() - interval '28 days' + random() * interval '27 days' AS t0,
           (%(reps)s::int[])[1 + floor(random() * %(rep_count)s)::int] AS rep,
           CASE WHEN score >= 80 THEN 'hot' WHEN score >= 50 THEN 'warm' ELSE 'cold' END AS tier,
           random() * 1.5 AS claim_share, random() * 1.5 AS contact_share, random() < 0.03 AS held
    FROM new_leads
), timed AS (
    SELECT *,
           CASE tier WHEN 'hot' THEN interval '1 hour' WHEN 'warm' THEN interval '4 hours' ELSE interval '8 hours' END
               AS claim_allowed,
           CASE tier WHEN 'hot' THEN interval '4 hours' WHEN 'warm' THEN interval '8 hours' ELSE interval '24 hours' END
               AS contact_allowed
    FROM planned
), clocked AS (
    SELECT *, t0 + claim_allowed * claim_share AS claimed_at FROM timed
), new_handoffs AS (
    INSERT INTO handoff_handoff (lead_id, campaign_id, handed_off_by_id, handed_off_at, note, policy_id,
                                 claimed_by_id, claimed_at, closed_at, outcome, return_reason, source)
    SELECT lead_id, %(campaign)s, %(user)s, t0, '', %(policy)s, rep, claimed_at,
           claimed_at + contact_allowed * contact_share, 'converted', '', 'hand_off'
    FROM clocked
    RETURNING id, lead_id
), rows AS (
    SELECT new_handoffs.id AS handoff_id, clocked.* FROM new_handoffs JOIN clocked USING (lead_id)
), claims AS (
    INSERT INTO handoff_deadline (handoff_id, lead_id, campaign_id, kind, policy_id, priority, owner_id,
                                  starts_at, allowed, given_due_at, due_at, warn_at, met_at, paused_for)
    SELECT handoff_id, lead_id, %(campaign)s, 'claim', %(policy)s, tier,
           CASE WHEN claim_share <= 1 THEN rep END, t0, claim_allowed, t0 + claim_allowed, t0 + claim_allowed,
           t0 + claim_allowed * 0.75, claimed_at, interval '0'
    FROM rows
    RETURNING 1
), holds AS (
    INSERT INTO leads_leadevent (lead_id, kind, from_status, to_status, note, data, created_at)
    SELECT lead_id, kind, '', '', '', '{}'::jsonb, claimed_at + offset_
    FROM rows,
         LATERAL (VALUES ('on_hold', interval '30 minutes'), ('resumed', interval '150 minutes')) AS h(kind, offset_)
    WHERE held
    RETURNING 1
)
INSERT INTO handoff_deadline (handoff_id, lead_id, campaign_id, kind, policy_id, priority, owner_id,
                              starts_at, allowed, given_due_at, due_at, warn_at, met_at, paused_for)
SELECT handoff_id, lead_id, %(campaign)s, 'first_contact', %(policy)s, tier, rep, claimed_at, contact_allowed,
       claimed_at + contact_allowed, claimed_at + contact_allowed, claimed_at + contact_allowed * 0.75,
       claimed_at + contact_allowed * contact_share, interval '0'
FROM rows
"""


def _calendar(name: str, zone: str, country: str, opens: wall, closes: wall) -> BusinessCalendar:
    calendar, created = BusinessCalendar.objects.get_or_create(
        name=name, defaults={"time_zone": zone, "country": country}
    )
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=day, opens=opens, closes=closes) for day in range(5)
        )
    return calendar


def _reps() -> list[int]:
    """40 reps in four teams: two in the default calendar, one in New York's, one in Singapore's."""
    calendars = [
        None,
        None,
        _calendar("Replay NY", "America/New_York", "US", wall(9), wall(17)),
        _calendar("Replay SG", "Asia/Singapore", "SG", wall(8, 30), wall(18)),
    ]
    users = []
    for team_number, calendar in enumerate(calendars):
        team, _ = SalesTeam.objects.get_or_create(
            name=f"Replay team {team_number + 1}", defaults={"calendar": calendar}
        )
        for number in range(REPS // len(calendars)):
            user, _ = get_user_model().objects.get_or_create(username=f"replay-rep-{team_number}-{number}")
            RepProfile.objects.update_or_create(user=user, defaults={"team": team, "capacity": 10_000})
            users.append(user.pk)
    return users


def deadlines_fill(handoffs: int) -> None:
    campaign, user = fill_campaign(CAMPAIGN)
    reps = _reps()
    policy = SlaPolicy.current()
    tag = f"{int(time.time() * 1000)}"
    for start in range(0, handoffs, CHUNK):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _FILL,
                {
                    "campaign": campaign.pk,
                    "user": user.pk,
                    "policy": policy.pk,
                    "count": min(CHUNK, handoffs - start),
                    "tag": f"{tag}-{start}",
                    "reps": reps,
                    "rep_count": len(reps),
                },
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead; ANALYZE handoff_handoff; ANALYZE handoff_deadline; ANALYZE leads_leadevent")


class Command(BaseCommand):
    help = "Time a replay of a draft on four weeks of ~200,000 deadlines (use a throwaway database)."

    def add_arguments(self, parser):
        parser.add_argument("--handoffs", type=int, default=100_000, help="Hand-offs to add (two deadlines each).")
        parser.add_argument("--weeks", type=int, default=4)

    def handle(self, *, handoffs: int, weeks: int, **options):
        if refusal := refuse_real_data(CAMPAIGN):
            raise CommandError(refusal)
        if not Deadline.objects.exists():
            started = time.perf_counter()
            deadlines_fill(handoffs)
            seconds = time.perf_counter() - started
            self.stdout.write(f"Filled {Deadline.objects.count():,} deadlines in {seconds:.1f} s (load {_load()})")
        manager = get_user_model().objects.get_or_create(username="replay-head", defaults={"is_superuser": True})[0]
        values = {name: getattr(SlaPolicy.current(), name) for name in agreement.POLICY_VALUES}
        values.update(name="Hot leads in half an hour", claim_hours_hot=Decimal("0.5"), first_contact_hours_hot=2)
        draft = agreement.draft_create(actor=manager, values=values, starts_at=timezone.now() + timedelta(days=7))
        replay = replay_request(draft=draft, actor=manager, weeks=weeks)
        load_before = _load()
        started, cpu_started = time.perf_counter(), time.process_time()
        replay_run(replay_id=replay.pk)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        replay = Replay.objects.get(pk=replay.pk)
        summary = replay.summary
        self.stdout.write(
            f"Replayed {summary['deadlines']:,} deadlines of {weeks} weeks in {seconds:.1f} s "
            f"({summary['deadlines'] / seconds:,.0f} a second; {cpu:.1f} s of this process's CPU time; "
            f"load {load_before} before, {_load()} after): "
            f"{summary['flips_to_missed']:,} met → missed, {summary['flips_to_met']:,} missed → met, "
            f"{replay.flips.count():,} flips stored; {summary['same_due']:,} due at the time they had."
        )


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"
