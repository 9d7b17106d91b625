"""Fill an empty database with N leads that look like a company's year: `manage.py seed_scale --leads 1000000`.

For measuring pages at scale (`manage.py benchmark_pages`, `benchmark_intake`), never for demos. The
company (README, "Benchmarks": the mix in figures):

- **People**: one rep per 2,500 leads (20 to 400) in teams of about 20, each team with its manager;
  each rep's capacity 25 to 60 open leads and a shift (early 7–15, day 9–17, late 11–19; one in ten
  part-time, Monday to Wednesday). The leads sales works now are spread over the reps by capacity, so
  each holds about four fifths of it (some a few over, as after a manager's assignment).
- **Growth**: lead arrivals grow over the year (three times as many a day at its end as at its start),
  in office hours (8 to 17 local, weekdays).
- **What leads are now**: the sales side's open leads (a fifth claimed, half contacted, three in ten
  on hold, half of those before the first contact) and the queue (two per rep) are recent; the rest
  is history: 26 % new, 6 % MQL, 12 % converted (deals 40 % won, 20 % lost), 10 % returned (three in
  ten before a contact), 44 % disqualified (one in twelve by the rep after a claim), 2 % merged into
  the lead before them.
- **Clocks**: claim and first contact take business-time-like durations drawn from a log-normal
  per tier (median a third of the time allowed for the claim, two fifths for the first contact, spread
  1.1 and 1.0), so about one in six is late, a few very late; warnings where three quarters of the
  time had passed. Running clocks are spread around now: about a third of the queue and of the
  first contacts are overdue now (their breach recorded, as the sweep does). First contacts are
  cancelled by a return or disqualification before contact, and paused while a lead is on hold before
  contact. Marketing's follow-up of a returned lead: met (one in five late) or, for recent returns,
  running (a quarter of them not yet done) and sometimes overdue. Due times are the start plus the
  allowed hours in wall time.
- **What people saw**: breaches of claims escalated to the manager (an `Escalation` step done and its
  event); notifications for every warning (to the digest, sent the next morning), breach (email) and
  return (to the marketer), those older than two days read.

Each lead gets the timeline its story implies, deals and activities as the services write them. Lead
1 has 400 notes more on its timeline.

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

import datetime
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign
from demo.management.commands.seed_demo import PASSWORD
from leads.counts import COUNTS_UPSERT, counts_select, event_months_fill
from leads.models import Lead, RepProfile, ReturnReason, SalesTeam
from leads.tally import read_models_fill
from people.roles import Role
from reporting.acceptance import acceptance_fill
from reporting.escalations import escalations_fill
from reporting.met_times import met_time_months_fill, met_times_fill
from reporting.outcomes import outcome_months_fill, outcomes_upsert
from routing.models import WorkingHours
from sla.models import SlaPolicy

CHUNK = 100_000
CAMPAIGNS = 50
LEADS_PER_REP = 2_500
REPS = (20, 400)  # fewest, most
REPS_PER_TEAM = 20
RETURN_REASONS = ["Not a fit", "No budget", "Wrong contact", "Already a customer"]
# Shifts (local hours), in turn; every tenth rep is part-time on the first three weekdays.
SHIFTS = [(7, 15), (9, 17), (9, 17), (11, 19)]
# Share of the capacity the reps' open leads fill, on average.
CAPACITY_FILLED = 0.8
QUEUE_PER_REP = 2

# One row per lead of the chunk: what it became, whose it is, when its steps happened. `g` is the
# lead's id. Durations: log-normal (Box-Muller) around a share of the tier's allowed time.
PLAN = """
CREATE TEMP TABLE scale_plan AS
SELECT g, campaign_id, status, rep_id, score, tier, stage, reason, sales_dq, before_contact, merged,
       claim_allowed, fc_allowed,
       LEAST(claim_allowed * 0.33 * exp(1.1 * z1), claim_allowed * 6) AS claim_delay,
       LEAST(fc_allowed * 0.4 * exp(1.0 * z2), fc_allowed * 4) AS fc_delay,
       r4
  FROM (
    SELECT g, campaign_id, status, rep_id, score, stage, reason, r4,
           status = 'disqualified' AND r3 < 0.08 AS sales_dq,
           (status = 'on_hold' AND r3 < 0.5) OR (status = 'returned' AND r3 < 0.3) AS before_contact,
           status = 'merged' AND g > %(first)s AS merged,
           CASE WHEN score >= 80 THEN 'hot' WHEN score >= 50 THEN 'warm' ELSE 'cold' END AS tier,
           CASE WHEN score >= 80 THEN %(claim_hot)s WHEN score >= 50 THEN %(claim_warm)s
                ELSE %(claim_cold)s END * interval '1 hour' AS claim_allowed,
           CASE WHEN score >= 80 THEN %(fc_hot)s WHEN score >= 50 THEN %(fc_warm)s
                ELSE %(fc_cold)s END * interval '1 hour' AS fc_allowed,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z1,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z2
      FROM (
        SELECT g, (%(campaigns)s::bigint[])[1 + floor(%(campaign_count)s * power(random(), 2))::int] AS campaign_id,
               CASE WHEN r < %(open)s THEN
                      CASE WHEN r2 < 0.2 THEN 'claimed' WHEN r2 < 0.7 THEN 'contacted' ELSE 'on_hold' END
                    WHEN r < %(open)s + %(queue)s THEN 'handed_off'
                    WHEN r2 < 0.26 THEN 'new' WHEN r2 < 0.32 THEN 'mql' WHEN r2 < 0.44 THEN 'converted'
                    WHEN r2 < 0.54 THEN 'returned' WHEN r2 < 0.98 THEN 'disqualified' ELSE 'merged' END AS status,
               (%(weighted_reps)s::int[])[1 + floor(random() * %(weighted_count)s)::int] AS rep_id,
               (20 + floor(random() * 80))::int AS score,
               CASE WHEN random() < 0.4 THEN 'won' WHEN random() < 0.33 THEN 'lost' ELSE 'proposal' END AS stage,
               (%(reasons)s::text[])[1 + g %% %(reason_count)s] AS reason,
               random() AS r3, random() AS r4
          FROM (SELECT g, random() AS r, random() AS r2
                  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) s
      ) s
  ) s;
UPDATE scale_plan SET status = 'new' WHERE status = 'merged' AND NOT merged;
ALTER TABLE scale_plan ADD COLUMN t0 timestamptz, ADD COLUMN passed boolean, ADD COLUMN claimed boolean,
                       ADD COLUMN contacted boolean, ADD COLUMN recent_return boolean;
UPDATE scale_plan SET
  recent_return = status = 'returned' AND r4 < 0.2,
  passed = status IN ('handed_off', 'claimed', 'contacted', 'on_hold', 'converted', 'returned') OR sales_dq,
  claimed = status IN ('claimed', 'contacted', 'on_hold', 'converted', 'returned') OR sales_dq,
  contacted = status IN ('contacted', 'converted') OR (status IN ('on_hold', 'returned') AND NOT before_contact);
-- When it arrived: the history over the year (more each month), the work of now recently, so that
-- the running clocks are spread around now (a third or so overdue).
UPDATE scale_plan SET t0 = CASE
  WHEN status = 'handed_off' THEN now() - random() * 1.5 * claim_allowed - interval '1 hour'
  WHEN status = 'claimed' THEN now() - random() * 1.5 * fc_allowed - claim_delay - interval '1 hour'
  WHEN status IN ('contacted', 'on_hold') OR recent_return
    THEN now() - claim_delay - fc_delay - interval '2 days' - power(random(), 2) * interval '20 days'
  ELSE now() - interval '14 days'
       - (1 - CASE WHEN random() < 0.5 THEN random() ELSE sqrt(random()) END) * interval '351 days'
  END;
-- History arrives in office hours (8 to 17 local, Monday to Friday), so its clocks run mostly in
-- business time, as a company's do.
UPDATE scale_plan SET t0 = ((date_trunc('day', t0 AT TIME ZONE %(zone)s)
                             + CASE extract(isodow FROM t0 AT TIME ZONE %(zone)s) WHEN 6 THEN interval '2 days'
                                    WHEN 7 THEN interval '1 day' ELSE interval '0' END
                             + interval '8 hours' + random() * interval '9 hours') AT TIME ZONE %(zone)s)
 WHERE status NOT IN ('handed_off', 'claimed', 'contacted', 'on_hold') AND NOT recent_return;
-- The steps' times: handed off an hour after arrival, claimed, first contact (or the return or
-- disqualification that cancelled it, halfway), returned a day after, follow-up done.
ALTER TABLE scale_plan ADD COLUMN h timestamptz, ADD COLUMN c timestamptz, ADD COLUMN fc timestamptz,
                       ADD COLUMN gone timestamptz, ADD COLUMN follow_up timestamptz;
UPDATE scale_plan SET h = t0 + interval '1 hour', c = t0 + interval '1 hour' + claim_delay,
                      fc = t0 + interval '1 hour' + claim_delay + fc_delay;
UPDATE scale_plan SET gone = CASE
  WHEN before_contact OR sales_dq THEN c + LEAST(fc_delay, fc_allowed) / 2
  WHEN status = 'returned' THEN fc + interval '1 day' END;
UPDATE scale_plan SET follow_up = gone + %(follow_up)s * 0.5 * exp(0.9 * sqrt(-2 * ln(1 - random()))
                                                                * cos(2 * pi() * random()))
 WHERE status = 'returned';
-- A quarter of the recent returns are not followed up yet (marketing's running clocks, some overdue):
-- without it, whether a small fill has any overdue follow-up at all was left to chance.
UPDATE scale_plan SET follow_up = NULL WHERE follow_up > now() - interval '1 minute' OR (recent_return AND r4 < 0.05);
"""

LEADS = """
INSERT INTO leads_lead (id, full_name, email, company, phone, job_title, company_size, source, capture_count,
                        campaign_id, status, owner_id, score, score_overridden, hold_reason, created_by_id,
                        created_at, status_changed_at, last_activity_at, next_step_at, merged_into_id)
SELECT g, 'Scale Lead ' || g, 'scale-' || g || '@example.com', 'Company ' || (g %% 5000), '', 'Buyer',
       10 * (g %% 500), 'import', 1, campaign_id, status,
       CASE WHEN status IN ('claimed', 'contacted', 'on_hold', 'converted') THEN rep_id END,
       score, false, CASE WHEN status = 'on_hold' THEN 'Waiting on budget' ELSE '' END, %(marketer)s,
       t0, COALESCE(gone, fc, c, h, t0),
       -- The latest activity (the email below) and its next step, for the leads sales still works.
       CASE WHEN contacted AND status IN ('contacted', 'on_hold') THEN fc + interval '3 hours' END,
       CASE WHEN contacted AND status IN ('contacted', 'on_hold') THEN now() + (g %% 14 - 4) * interval '1 day' END,
       CASE WHEN merged THEN g - 1 END
  FROM scale_plan;

INSERT INTO handoff_handoff (id, lead_id, campaign_id, handed_off_by_id, handed_off_at, note, policy_id,
                             claimed_by_id, claimed_at, closed_at, outcome, return_reason)
SELECT g, g, campaign_id, %(marketer)s, h, '', %(policy)s,
       CASE WHEN claimed THEN rep_id END, CASE WHEN claimed THEN c END,
       CASE WHEN status = 'converted' THEN fc + interval '1 day' WHEN status = 'returned' OR sales_dq THEN gone END,
       CASE WHEN status IN ('converted', 'returned') THEN status WHEN sales_dq THEN 'disqualified' ELSE '' END,
       CASE WHEN status = 'returned' THEN reason ELSE '' END
  FROM scale_plan WHERE passed;

-- The clocks: (plan row, kind, owner, start, allowed, due, warn, met, cancelled, paused), then the
-- sweep's records: warned when the warning time passed before it was met (or now), breached (and the
-- breach told a minute later) when the due time did.
CREATE TEMP TABLE scale_clocks AS
SELECT g, campaign_id, tier, kind, id, owner_id, starts_at, allowed, due, due - allowed / 4 AS warn, met_at,
       cancelled_at, paused_at
  FROM scale_plan,
       LATERAL (VALUES
         (passed, 'claim', 3 * g, CASE WHEN claimed AND claim_delay <= claim_allowed THEN rep_id END, h,
          claim_allowed, h + claim_allowed, CASE WHEN claimed THEN c END, NULL::timestamptz, NULL::timestamptz),
         (claimed, 'first_contact', 3 * g + 1, rep_id, c, fc_allowed, c + fc_allowed,
          CASE WHEN contacted THEN fc END, CASE WHEN before_contact AND status = 'returned' OR sales_dq THEN gone END,
          CASE WHEN before_contact AND status = 'on_hold' THEN gone END),
         (status = 'returned', 'follow_up', 3 * g + 2, %(marketer)s, gone, %(follow_up)s, gone + %(follow_up)s,
          follow_up, NULL, NULL)
       ) AS k(happened, kind, id, owner_id, starts_at, allowed, due, met_at, cancelled_at, paused_at)
 WHERE k.happened;
ALTER TABLE scale_clocks ADD COLUMN warned_at timestamptz, ADD COLUMN breached_at timestamptz;
UPDATE scale_clocks SET
  warned_at = CASE WHEN warn < COALESCE(met_at, cancelled_at, paused_at, now()) THEN warn END,
  breached_at = CASE WHEN due < COALESCE(met_at, cancelled_at, paused_at, now()) THEN due + interval '30 seconds' END;

INSERT INTO handoff_deadline (id, handoff_id, lead_id, campaign_id, kind, policy_id, priority, owner_id, starts_at,
                              allowed, given_due_at, due_at, warn_at, warned_at, paused_at, paused_for, met_at,
                              breached_at, breach_notified_at, cancelled_at)
SELECT id, g, g, campaign_id, kind, %(policy)s, CASE WHEN kind = 'follow_up' THEN '' ELSE tier END, owner_id,
       starts_at, allowed, due, due, warn, warned_at, paused_at, interval '0', met_at, breached_at,
       breached_at + interval '30 seconds', cancelled_at
  FROM scale_clocks;

-- A breached claim is escalated: the manager told (the policy's first step), done a minute later.
INSERT INTO handoff_escalation (deadline_id, lead_id, step, position, created_at, done_at, outcome)
SELECT id, g, 'notify_manager', 0, breached_at, breached_at + interval '1 minute', 'Told the manager'
  FROM scale_clocks WHERE kind = 'claim' AND breached_at IS NOT NULL;

INSERT INTO leads_activity (id, lead_id, rep_id, kind, outcome, note, next_step_at, created_at)
SELECT 2 * g + k, g, rep_id, CASE k WHEN 0 THEN 'call' ELSE 'email' END, 'reached', '',
       CASE WHEN k = 1 THEN now() + (g %% 14 - 4) * interval '1 day' END,
       fc + k * interval '3 hours'
  FROM scale_plan, generate_series(0, 1) AS k
 WHERE contacted;

INSERT INTO leads_deal (id, lead_id, campaign_id, value, currency, owner_id, stage, expected_close_date,
                        lost_reason, closed_at, created_at)
SELECT g, g, campaign_id, 1000 + (g %% 50) * 100, 'EUR', rep_id, stage, NULL,
       CASE WHEN stage = 'lost' THEN 'Went with a competitor' ELSE '' END,
       CASE WHEN stage IN ('won', 'lost') THEN fc + interval '3 days' END, fc + interval '1 day'
  FROM scale_plan WHERE status = 'converted';

-- The timeline each story implies, in the order it happened: kept in a temporary table too, for
-- the read models (`COUNT_CHUNK`) and the notifications.
CREATE TEMP TABLE scale_events AS
SELECT g AS lead_id, e.kind, e.actor AS actor_id, e.from_status, e.to_status, '' AS note, e.data, e.at AS created_at
  FROM scale_plan,
       LATERAL (VALUES
         (true, 'captured', %(marketer)s, '', '', jsonb_build_object('campaign', campaign_id, 'source', 'import'),
          t0),
         (true, 'scored', NULL, '', '', jsonb_build_object('from', 0, 'to', score), t0 + interval '1 second'),
         (status NOT IN ('new', 'merged') AND (status <> 'disqualified' OR sales_dq OR g %% 2 = 0), 'qualified',
          %(marketer)s, 'new', 'mql', '{}'::jsonb, t0 + interval '30 minutes'),
         (passed, 'handed_off', %(marketer)s, 'mql', 'handed_off', '{}'::jsonb, h),
         (claimed, 'claimed', rep_id, 'handed_off', 'claimed', jsonb_build_object('rep', rep_id), c),
         (contacted, 'activity', rep_id, '', '',
          jsonb_build_object('activity', 2 * g, 'kind', 'call', 'outcome', 'reached'), fc),
         (contacted, 'contacted', rep_id, 'claimed', 'contacted', '{}'::jsonb, fc),
         (contacted, 'activity', rep_id, '', '',
          jsonb_build_object('activity', 2 * g + 1, 'kind', 'email', 'outcome', 'reached'), fc + interval '3 hours'),
         (status = 'on_hold', 'on_hold', rep_id, CASE WHEN contacted THEN 'contacted' ELSE 'claimed' END, 'on_hold',
          '{}'::jsonb, COALESCE(gone, fc + interval '1 day')),
         (status = 'converted', 'converted', rep_id, 'contacted', 'converted',
          jsonb_build_object('value', (1000 + (g %% 50) * 100)::text, 'currency', 'EUR'), fc + interval '1 day'),
         (status = 'converted' AND stage IN ('won', 'lost'), 'deal_stage', rep_id, '', '',
          jsonb_build_object('from', 'qualified', 'to', stage, 'value', (1000 + (g %% 50) * 100)::text),
          fc + interval '3 days'),
         (status = 'returned', 'returned', rep_id, CASE WHEN contacted THEN 'contacted' ELSE 'claimed' END,
          'returned', jsonb_build_object('reason', reason), gone),
         (sales_dq, 'disqualified', rep_id, 'claimed', 'disqualified', '{}'::jsonb, gone),
         (status = 'disqualified' AND NOT sales_dq, 'disqualified', %(marketer)s,
          CASE WHEN g %% 2 = 0 THEN 'mql' ELSE 'new' END, 'disqualified', '{}'::jsonb, t0 + interval '1 hour'),
         (merged, 'merged', %(marketer)s, 'new', 'merged', jsonb_build_object('into', g - 1), t0 + interval '1 day')
       ) AS e(happened, kind, actor, from_status, to_status, data, at)
 WHERE e.happened
UNION ALL
-- The sweep's records of the clocks: warnings and breaches (naming the owner), and the escalation.
SELECT g, e.kind, NULL, '', '', '', e.data, e.at
  FROM scale_clocks,
       LATERAL (VALUES
         (warned_at IS NOT NULL, 'warning', warned_at),
         (breached_at IS NOT NULL, 'breach', breached_at),
         (breached_at IS NOT NULL AND scale_clocks.kind = 'claim', 'escalated', breached_at + interval '1 minute')
       ) AS e0(happened, kind, at),
       LATERAL (SELECT CASE WHEN e0.kind = 'escalated'
                            THEN jsonb_build_object('deadline', id, 'step', 'notify_manager')
                            ELSE jsonb_strip_nulls(jsonb_build_object('kind', scale_clocks.kind, 'deadline', id,
                                                                      'owner', owner_id)) END AS data,
                       e0.kind, e0.at) e
 WHERE e0.happened;
INSERT INTO leads_leadevent (lead_id, kind, actor_id, from_status, to_status, note, data, created_at)
SELECT lead_id, kind, actor_id, from_status, to_status, note, data, created_at FROM scale_events;

-- What people were told: each warning to the owner (in the next morning's digest), each breach by
-- email (a claim left in the queue: the team's manager), each return to the marketer; read after two days.
INSERT INTO handoff_notification (user_id, kind, lead_id, title, body, url, key, delivery, created_at, read_at,
                                  emailed_at, count)
SELECT n.user_id, e.kind, e.lead_id, n.title, '', '/leads/' || e.lead_id || '/', e.kind || ':' || n.about,
       n.delivery, e.created_at,
       CASE WHEN e.created_at < now() - interval '2 days' THEN e.created_at + interval '3 hours' END,
       CASE WHEN n.delivery = 'email' THEN e.created_at + interval '1 minute'
            WHEN n.delivery = 'digest' AND e.created_at < date_trunc('day', now())
            THEN date_trunc('day', e.created_at) + interval '1 day 7 hours'
       END, 1
  FROM scale_events e
  JOIN scale_plan p ON p.g = e.lead_id
 CROSS JOIN LATERAL (
   SELECT COALESCE((e.data->>'owner')::integer, %(manager)s) AS user_id, e.data->>'deadline' AS about,
          CASE e.kind WHEN 'warning' THEN 'SLA warning' ELSE 'SLA breach' END || ': Scale Lead ' || e.lead_id AS title,
          CASE e.kind WHEN 'warning' THEN 'digest' ELSE 'email' END AS delivery
    WHERE e.kind IN ('warning', 'breach')
   UNION ALL
   SELECT %(marketer)s, e.lead_id::text, 'Lead returned: Scale Lead ' || e.lead_id, 'in_app' WHERE e.kind = 'returned'
 ) n;
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
    "handoff_escalation",
    "handoff_notification",
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
            people = self._people(leads)
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
                self._chunk(cursor, first=first, last=last, people=people)
                self.stdout.write(f"  {last:,} leads ({time.monotonic() - started:.0f} s)")
                self.stdout.flush()
            cursor.execute(COUNTS_UPSERT.format(select=SCALE_COUNTS_SUMMED))
            # The daily counts' and the hourly outcomes' monthly sums (their triggers are off here, as every
            # trigger is).
            event_months_fill(cursor)
            outcome_months_fill(cursor)
            # The hand-offs' acceptance per day, from every hand-off and its claim clock at once.
            acceptance_fill(cursor)
            # The escalation steps done per day of their breached deadlines' due time.
            escalations_fill(cursor)
            # The met deadlines' business times per bucket (none yet: fill_business_seconds sets them after,
            # triggers on; a fill that set them here would count them here).
            met_times_fill(cursor)
            met_time_months_fill(cursor)
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

    def _people(self, leads: int) -> dict:
        """Users (reps in teams with their capacity and shifts, their managers, a marketer), campaigns and
        return reasons the leads refer to, and the plan's rates."""
        User = get_user_model()
        password = make_password(PASSWORD)
        groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
        marketer = User.objects.create(username="scale-marketer", first_name="Scale", password=password)
        marketer.groups.add(groups[Role.MARKETING])
        rep_count = max(REPS[0], min(REPS[1], leads // LEADS_PER_REP))
        team_count = max(1, rep_count // REPS_PER_TEAM)
        managers = User.objects.bulk_create(
            User(username=f"scale-manager-{i + 1:02}", first_name=f"Manager {i + 1}", password=password)
            for i in range(team_count)
        )
        teams = [
            SalesTeam.objects.create(name=f"Scale team {i + 1}", manager=manager) for i, manager in enumerate(managers)
        ]
        reps = User.objects.bulk_create(
            User(username=f"scale-rep-{i + 1:03}", first_name=f"Rep {i + 1}", password=password)
            for i in range(rep_count)
        )
        Membership = User.groups.through
        Membership.objects.bulk_create(
            [Membership(user_id=m.pk, group_id=groups[Role.MANAGERS].pk) for m in managers]
            + [Membership(user_id=r.pk, group_id=groups[Role.SALES].pk) for r in reps]
        )
        # Capacities 25 to 60, spread evenly; the open leads are dealt by capacity (a rep appears in
        # the list as many times as the leads they can hold).
        capacities = [25 + (i * 13) % 36 for i in range(rep_count)]
        RepProfile.objects.bulk_create(
            RepProfile(user=rep, team=teams[i % team_count], capacity=capacities[i]) for i, rep in enumerate(reps)
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(
                rep=rep,
                weekday=day,
                starts=datetime.time(SHIFTS[i % len(SHIFTS)][0]),
                ends=datetime.time(SHIFTS[i % len(SHIFTS)][1]),
            )
            for i, rep in enumerate(reps)
            for day in range(3 if i % 10 == 9 else 5)
        )
        weighted = [rep.pk for rep, capacity in zip(reps, capacities, strict=True) for _ in range(capacity)]
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
        policy = SlaPolicy.current()
        return {
            "campaigns": campaigns,
            "campaign_count": len(campaigns),
            "reps": [rep.pk for rep in reps],
            "weighted_reps": weighted,
            "weighted_count": len(weighted),
            "open": min(0.35, CAPACITY_FILLED * sum(capacities) / leads),
            "queue": min(0.1, QUEUE_PER_REP * rep_count / leads),
            "marketer": marketer.pk,
            "manager": managers[0].pk,
            "policy": policy.pk,
            **{f"claim_{tier}": float(getattr(policy, f"claim_hours_{tier}")) for tier in SlaPolicy.TIERS},
            **{f"fc_{tier}": float(getattr(policy, f"first_contact_hours_{tier}")) for tier in SlaPolicy.TIERS},
            # Business days in wall time (a week has five).
            "follow_up": datetime.timedelta(days=policy.follow_up_days * 7 / 5),
            "reasons": RETURN_REASONS,
            "reason_count": len(RETURN_REASONS),
            "zone": settings.TIME_ZONE,
        }

    def _chunk(self, cursor, *, first: int, last: int, people: dict) -> None:
        params = {**people, "first": first, "last": last}
        cursor.execute(PLAN, params)
        cursor.execute(LEADS, params)
        cursor.execute("INSERT INTO scale_counts " + counts_select("scale_events"))
        cursor.execute(CHUNK_VIEWS, params)
        read_models_fill(cursor, leads="scale_leads", events="scale_events", deals="scale_deals")
        cursor.execute(outcomes_upsert("scale_deadlines"))
        cursor.execute(
            "DROP VIEW scale_leads, scale_deals, scale_deadlines; DROP TABLE scale_plan, scale_clocks, scale_events"
        )
