"""Fill an empty database with N leads in a realistic mix, fast: `manage.py seed_scale --leads 1000000`.

For measuring pages at scale (`manage.py benchmark_pages`), never for demos. The mix, per lead:
25 % new, 10 % MQL, 10 % waiting in the queue, 5 % claimed, 10 % contacted, 2.5 % on hold,
10 % converted (deals 40 % won, 20 % lost, the rest open), 7.5 % returned to marketing, 20 %
disqualified; 50 campaigns of very different sizes (the largest holds about a seventh of the leads),
40 reps in 5 teams. Each lead gets the timeline its status implies (about 4.6 events), a handoff
with its deadlines once passed to sales (claim, first contact, follow-up of a return): those of the
leads still waiting are running and due in the coming days, the rest are met, one in ten after a
recorded breach. Activities for the contacted leads (the leads sales still works carry their latest
activity's time and next step, as `activity_log` leaves them), deals for the converted. Lead 1 has 400 notes more on its
timeline.

Rows are written by `INSERT … SELECT` over `generate_series`, 100,000 leads per statement, all in
one transaction with triggers and foreign-key checks off (`session_replication_role = replica`)
and the filled tables' secondary indexes dropped first and built again at the end (much faster
than keeping them up to date row by row; a failure rolls everything back, indexes included). The
read models are filled chunk by chunk with the rebuilds' own SQL (`leads.counts.counts_select`,
`leads.tally.read_models_fill`, `reporting.outcomes.outcomes_upsert`) over the chunk's leads, deals,
deadlines and events (a temporary table), so
nothing reads the whole timeline again at the end (the timeline's counts are summed once at the end).
The command refuses a database that already holds campaigns or leads.
"""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign
from demo.management.commands.seed_demo import PASSWORD
from leads.counts import COUNTS_UPSERT, counts_select
from leads.models import Lead, RepProfile, ReturnReason, SalesTeam
from leads.tally import read_models_fill
from people.roles import Role
from reporting.outcomes import outcomes_upsert
from sla.models import SlaPolicy

CHUNK = 100_000
CAMPAIGNS = 50
REPS = 40
TEAMS = 5
RETURN_REASONS = ["Not a fit", "No budget", "Wrong contact", "Already a customer"]

# One row per lead of the chunk: what it became, whose it is, when it started. `g` is the lead's id.
PLAN = """
CREATE TEMP TABLE scale_plan AS
SELECT g,
       (%(campaigns)s::bigint[])[1 + floor(%(campaign_count)s * power(random(), 2))::int] AS campaign_id,
       CASE WHEN r < 0.25 THEN 'new' WHEN r < 0.35 THEN 'mql' WHEN r < 0.45 THEN 'handed_off'
            WHEN r < 0.50 THEN 'claimed' WHEN r < 0.60 THEN 'contacted' WHEN r < 0.625 THEN 'on_hold'
            WHEN r < 0.725 THEN 'converted' WHEN r < 0.80 THEN 'returned' ELSE 'disqualified' END AS status,
       (%(reps)s::int[])[1 + g %% %(rep_count)s] AS rep_id,
       (20 + floor(random() * 80))::int AS score,
       now() - interval '2 days' - random() * interval '363 days' AS t0,
       g %% 10 = 0 AS breached,
       CASE WHEN random() < 0.4 THEN 'won' WHEN random() < 0.33 THEN 'lost' ELSE 'proposal' END AS stage,
       (%(reasons)s::text[])[1 + g %% %(reason_count)s] AS reason
  FROM (SELECT g, random() AS r FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) s;
ALTER TABLE scale_plan ADD COLUMN passed boolean, ADD COLUMN claimed boolean, ADD COLUMN contacted boolean;
UPDATE scale_plan SET
  passed = status IN ('handed_off', 'claimed', 'contacted', 'on_hold', 'converted', 'returned'),
  claimed = status IN ('claimed', 'contacted', 'on_hold', 'converted', 'returned'),
  contacted = status IN ('contacted', 'on_hold', 'converted');
"""

LEADS = """
INSERT INTO leads_lead (id, full_name, email, company, phone, job_title, company_size, source, capture_count,
                        campaign_id, status, owner_id, score, score_overridden, hold_reason, created_by_id,
                        created_at, status_changed_at, last_activity_at, next_step_at)
SELECT g, 'Scale Lead ' || g, 'scale-' || g || '@example.com', 'Company ' || (g %% 5000), '', 'Buyer',
       10 * (g %% 500), 'import', 1, campaign_id, status,
       CASE WHEN status IN ('claimed', 'contacted', 'on_hold', 'converted') THEN rep_id END,
       score, false, CASE WHEN status = 'on_hold' THEN 'Waiting on budget' ELSE '' END, %(marketer)s,
       t0, t0 + interval '1 day',
       -- The latest activity (the email below) and its next step, for the leads sales still works.
       CASE WHEN status IN ('contacted', 'on_hold') THEN t0 + interval '8 hours' END,
       CASE WHEN status IN ('contacted', 'on_hold') THEN now() + (g %% 14 - 4) * interval '1 day' END
  FROM scale_plan;

INSERT INTO handoff_handoff (id, lead_id, campaign_id, handed_off_by_id, handed_off_at, note, policy_id,
                             claimed_by_id, claimed_at, closed_at, outcome, return_reason)
SELECT g, g, campaign_id, %(marketer)s, t0 + interval '2 hours', '', %(policy)s,
       CASE WHEN claimed THEN rep_id END,
       CASE WHEN claimed THEN t0 + CASE WHEN breached THEN interval '7 hours' ELSE interval '3 hours' END END,
       CASE WHEN status IN ('converted', 'returned') THEN t0 + interval '1 day' END,
       CASE WHEN status IN ('converted', 'returned') THEN status ELSE '' END,
       CASE WHEN status = 'returned' THEN reason ELSE '' END
  FROM scale_plan WHERE passed;

-- Claim clocks: running for the queue (due in the coming days), met for the rest (late, after a
-- breach, for one in ten). Each carries its lead's campaign, and a claim met in time the rep who
-- claimed (one met late stays the queue's), as the services write them.
INSERT INTO handoff_deadline (id, handoff_id, lead_id, campaign_id, kind, policy_id, priority, owner_id, starts_at,
                              allowed, given_due_at, due_at, warn_at, warned_at, paused_for, met_at, breached_at,
                              breach_notified_at)
SELECT 3 * g, g, g, campaign_id, 'claim', %(policy)s, 'warm', CASE WHEN claimed AND NOT breached THEN rep_id END,
       t0 + interval '2 hours', interval '4 hours', due, due,
       warn, CASE WHEN breached AND claimed THEN warn END, interval '0',
       CASE WHEN claimed THEN t0 + CASE WHEN breached THEN interval '7 hours' ELSE interval '3 hours' END END,
       CASE WHEN breached AND claimed THEN due + interval '30 seconds' END,
       CASE WHEN breached AND claimed THEN due + interval '1 minute' END
  FROM scale_plan,
       LATERAL (SELECT CASE WHEN claimed THEN t0 + interval '6 hours'
                            ELSE now() + interval '1 hour' + random() * interval '4 days' END AS due) d,
       LATERAL (SELECT CASE WHEN claimed THEN t0 + interval '5 hours'
                            ELSE d.due - interval '1 hour' END AS warn) w
 WHERE passed;

-- First-contact clocks of the claimed leads: running for those not contacted yet.
INSERT INTO handoff_deadline (id, handoff_id, lead_id, campaign_id, kind, policy_id, priority, owner_id, starts_at,
                              allowed, given_due_at, due_at, warn_at, paused_for, met_at)
SELECT 3 * g + 1, g, g, campaign_id, 'first_contact', %(policy)s, 'warm', rep_id, t0 + interval '3 hours',
       interval '8 hours', due, due, due - interval '2 hours', interval '0',
       CASE WHEN contacted OR status = 'returned' THEN t0 + interval '5 hours' END
  FROM scale_plan,
       LATERAL (SELECT CASE WHEN status = 'claimed' THEN now() + interval '3 hours' + random() * interval '3 days'
                            ELSE t0 + interval '11 hours' END AS due) d
 WHERE claimed;

-- Marketing's follow-up of the returned leads: two in three still running.
INSERT INTO handoff_deadline (id, handoff_id, lead_id, campaign_id, kind, policy_id, priority, owner_id, starts_at,
                              allowed, given_due_at, due_at, warn_at, paused_for, met_at)
SELECT 3 * g + 2, g, g, campaign_id, 'follow_up', %(policy)s, '', %(marketer)s, t0 + interval '1 day',
       interval '40 hours', due, due, due - interval '10 hours', interval '0',
       CASE WHEN g %% 3 = 0 THEN t0 + interval '2 days' END
  FROM scale_plan,
       LATERAL (SELECT CASE WHEN g %% 3 = 0 THEN t0 + interval '6 days'
                            ELSE now() + interval '12 hours' + random() * interval '5 days' END AS due) d
 WHERE status = 'returned';

INSERT INTO leads_activity (id, lead_id, rep_id, kind, outcome, note, next_step_at, created_at)
SELECT 2 * g + k, g, rep_id, CASE k WHEN 0 THEN 'call' ELSE 'email' END, 'reached', '',
       CASE WHEN k = 1 THEN now() + (g %% 14 - 4) * interval '1 day' END,
       t0 + interval '5 hours' + k * interval '3 hours'
  FROM scale_plan, generate_series(0, 1) AS k
 WHERE contacted;

INSERT INTO leads_deal (id, lead_id, campaign_id, value, currency, owner_id, stage, expected_close_date,
                        lost_reason, closed_at, created_at)
SELECT g, g, campaign_id, 1000 + (g %% 50) * 100, 'EUR', rep_id, stage, NULL,
       CASE WHEN stage = 'lost' THEN 'Went with a competitor' ELSE '' END,
       CASE WHEN stage IN ('won', 'lost') THEN t0 + interval '3 days' END, t0 + interval '1 day'
  FROM scale_plan WHERE status = 'converted';

-- The timeline each status implies, in the order it happened: kept in a temporary table too, for
-- the read models (`COUNT_CHUNK`).
CREATE TEMP TABLE scale_events AS
SELECT g AS lead_id, e.kind, e.actor AS actor_id, e.from_status, e.to_status, '' AS note, e.data,
       t0 + e.after AS created_at
  FROM scale_plan,
       LATERAL (VALUES
         (true, 'captured', %(marketer)s, '', '', jsonb_build_object('campaign', campaign_id, 'source', 'import'),
          interval '0'),
         (true, 'scored', NULL, '', '', jsonb_build_object('from', 0, 'to', score), interval '1 second'),
         (status <> 'new' AND (status <> 'disqualified' OR g %% 2 = 0), 'qualified', %(marketer)s, 'new', 'mql',
          '{}'::jsonb, interval '1 hour'),
         (passed, 'handed_off', %(marketer)s, 'mql', 'handed_off', '{}'::jsonb, interval '2 hours'),
         (claimed AND breached, 'warning', NULL, '', '', jsonb_build_object('kind', 'claim'), interval '5 hours'),
         (claimed AND breached, 'breach', NULL, '', '', jsonb_build_object('kind', 'claim', 'deadline', 3 * g),
          interval '6 hours 30 seconds'),
         (claimed, 'claimed', rep_id, 'handed_off', 'claimed', jsonb_build_object('rep', rep_id),
          CASE WHEN breached THEN interval '7 hours' ELSE interval '3 hours' END),
         (contacted, 'activity', rep_id, '', '',
          jsonb_build_object('activity', 2 * g, 'kind', 'call', 'outcome', 'reached'), interval '7 hours 30 minutes'),
         (contacted, 'contacted', rep_id, 'claimed', 'contacted', '{}'::jsonb, interval '7 hours 30 minutes'),
         (contacted, 'activity', rep_id, '', '',
          jsonb_build_object('activity', 2 * g + 1, 'kind', 'email', 'outcome', 'reached'), interval '10 hours'),
         (status = 'on_hold', 'on_hold', rep_id, 'contacted', 'on_hold', '{}'::jsonb, interval '1 day'),
         (status = 'converted', 'converted', rep_id, 'contacted', 'converted',
          jsonb_build_object('value', (1000 + (g %% 50) * 100)::text, 'currency', 'EUR'), interval '1 day'),
         (status = 'converted' AND stage IN ('won', 'lost'), 'deal_stage', rep_id, '', '',
          jsonb_build_object('from', 'qualified', 'to', stage, 'value', (1000 + (g %% 50) * 100)::text),
          interval '3 days'),
         (status = 'returned', 'returned', rep_id, 'claimed', 'returned', jsonb_build_object('reason', reason),
          interval '1 day'),
         (status = 'disqualified', 'disqualified', %(marketer)s, CASE WHEN g %% 2 = 0 THEN 'mql' ELSE 'new' END,
          'disqualified', '{}'::jsonb, interval '1 hour 30 minutes')
       ) AS e(happened, kind, actor, from_status, to_status, data, after)
 WHERE e.happened;
INSERT INTO leads_leadevent (lead_id, kind, actor_id, from_status, to_status, note, data, created_at)
SELECT lead_id, kind, actor_id, from_status, to_status, note, data, created_at FROM scale_events;
"""

# The timeline's counts (`leads.counts`) of each chunk, summed into `handoff_eventcount` once at the
# end: one ordered insert into an empty table instead of an upsert per chunk all over its index.
SCALE_COUNTS = """
CREATE TEMP TABLE scale_counts (day date, kind text, subgroup text, campaign_id bigint, user_id integer,
                                value bigint, amount numeric) ON COMMIT DROP
"""
SCALE_COUNTS_SUMMED = """
SELECT day, kind, subgroup, campaign_id, user_id, SUM(value), SUM(amount)
  FROM scale_counts GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
"""

# The chunk's leads, deals (a deal's id is its lead's) and deadlines, for the read models.
CHUNK_VIEWS = """
CREATE TEMP VIEW scale_leads AS SELECT * FROM leads_lead WHERE id BETWEEN %(first)s AND %(last)s;
CREATE TEMP VIEW scale_deals AS SELECT * FROM leads_deal WHERE id BETWEEN %(first)s AND %(last)s;
CREATE TEMP VIEW scale_deadlines AS SELECT * FROM handoff_deadline WHERE id BETWEEN 3 * %(first)s AND 3 * %(last)s + 2;
"""

FILLED_TABLES = [
    "leads_lead",
    "leads_leadevent",
    "handoff_handoff",
    "handoff_deadline",
    "leads_activity",
    "leads_deal",
    "handoff_eventcount",
]

# Indexes that back no constraint (primary keys and unique constraints stay): dropped during the
# fill and built again from their definitions.
SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef
  FROM pg_indexes i
 WHERE i.schemaname = current_schema() AND i.tablename = ANY(%(tables)s)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
"""

# One lead with a long history (400 notes more), for the lead page's timeline.
LONG_TIMELINE = """
INSERT INTO leads_leadevent (lead_id, kind, actor_id, from_status, to_status, note, data, created_at)
SELECT l.id, 'activity', %(rep)s, '', '', 'Note ' || n, '{"kind": "note"}'::jsonb,
       l.created_at + n * interval '10 minutes'
  FROM leads_lead l, generate_series(1, 400) AS n
 WHERE l.id = 1
"""

# Identity columns continue after the ids written explicitly.
SEQUENCES = """
SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), (SELECT max(id) FROM leads_lead));
SELECT setval(pg_get_serial_sequence('handoff_handoff', 'id'), (SELECT max(id) FROM handoff_handoff));
SELECT setval(pg_get_serial_sequence('handoff_deadline', 'id'), (SELECT max(id) FROM handoff_deadline));
SELECT setval(pg_get_serial_sequence('leads_activity', 'id'), (SELECT max(id) FROM leads_activity));
SELECT setval(pg_get_serial_sequence('leads_deal', 'id'), (SELECT max(id) FROM leads_deal));
"""


class Command(BaseCommand):
    help = "Fill an empty database with N leads in a realistic mix (for benchmarks; refuses a database with data)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)

    def handle(self, *, leads: int, **options):
        if Campaign.objects.exists() or Lead.objects.exists():
            raise CommandError(
                "This database already holds campaigns or leads: seed_scale only fills an empty one "
                "(create a throwaway database, migrate it, and point DATABASE_URL at it)."
            )
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            people = self._people()
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # the chunks' counts sort in memory
            cursor.execute(SECONDARY_INDEXES, {"tables": FILLED_TABLES})
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute(SCALE_COUNTS)
            for first in range(1, leads + 1, CHUNK):
                last = min(first + CHUNK - 1, leads)
                self._chunk(cursor, first=first, last=last, **people)
                self.stdout.write(f"  {last:,} leads ({time.monotonic() - started:.0f} s)")
                self.stdout.flush()
            cursor.execute(COUNTS_UPSERT.format(select=SCALE_COUNTS_SUMMED))
            self.stdout.write(f"  timeline counts summed ({time.monotonic() - started:.0f} s)")
            for _, definition in indexes:
                cursor.execute(definition)
            self.stdout.write(f"  {len(indexes)} indexes built ({time.monotonic() - started:.0f} s)")
            cursor.execute(SEQUENCES)
            # Triggers on again: the long timeline counts itself like any other event.
            cursor.execute("SET LOCAL session_replication_role = origin")
            cursor.execute(LONG_TIMELINE, {"rep": people["reps"][0]})
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"{leads:,} leads in {time.monotonic() - started:.0f} s (read models filled as it went).")

    def _people(self) -> dict:
        """Users, teams, campaigns and return reasons the leads refer to."""
        User = get_user_model()
        password = make_password(PASSWORD)
        groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
        marketer = User.objects.create(username="scale-marketer", first_name="Scale", password=password)
        marketer.groups.add(groups[Role.MARKETING])
        manager = User.objects.create(username="scale-manager", first_name="Scale Manager", password=password)
        manager.groups.add(groups[Role.MANAGERS])
        teams = [SalesTeam.objects.create(name=f"Scale team {i + 1}", manager=manager) for i in range(TEAMS)]
        reps = []
        for i in range(REPS):
            rep = User.objects.create(username=f"scale-rep-{i + 1:02}", first_name=f"Rep {i + 1}", password=password)
            rep.groups.add(groups[Role.SALES])
            RepProfile.objects.create(user=rep, team=teams[i % TEAMS], capacity=10_000)
            reps.append(rep.pk)
        today = timezone.localdate()
        campaigns = [
            Campaign.objects.create(
                name=f"Scale campaign {i + 1:02}",
                owner=marketer,
                channel=Campaign.Channel.values[i % len(Campaign.Channel.values)],
                status=Campaign.Status.ACTIVE,
                start_date=today.replace(year=today.year - 1),
                budget=50_000,
                actual_spend=10_000 + 500 * i,
                target_mqls_per_month=500,
            ).pk
            for i in range(CAMPAIGNS)
        ]
        for position, label in enumerate(RETURN_REASONS):
            ReturnReason.objects.get_or_create(label=label, defaults={"position": position})
        return {
            "campaigns": campaigns,
            "reps": reps,
            "marketer": marketer.pk,
            "policy": SlaPolicy.current().pk,
        }

    def _chunk(self, cursor, *, first: int, last: int, campaigns, reps, marketer, policy) -> None:
        params = {
            "first": first,
            "last": last,
            "campaigns": campaigns,
            "campaign_count": len(campaigns),
            "reps": reps,
            "rep_count": len(reps),
            "reasons": RETURN_REASONS,
            "reason_count": len(RETURN_REASONS),
            "marketer": marketer,
            "policy": policy,
        }
        cursor.execute(PLAN, params)
        cursor.execute(LEADS, params)
        cursor.execute("INSERT INTO scale_counts " + counts_select("scale_events"))
        cursor.execute(CHUNK_VIEWS, params)
        read_models_fill(cursor, leads="scale_leads", events="scale_events", deals="scale_deals")
        cursor.execute(outcomes_upsert("scale_deadlines"))
        cursor.execute("DROP VIEW scale_leads, scale_deals, scale_deadlines; DROP TABLE scale_plan, scale_events")
