"""Breach and warning notices: who is told of an SLA event, and what they read."""

from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from common.bulk import choice_label_sql
from leads.assignment import active_managers
from notifications.models import Notification, UserPreferences, time_zone_names
from notifications.services import EMAIL_BATCH, notify, time_in_zone
from notifications.tasks import send_notification_emails
from people.names import person_name_sql
from sla.models import Deadline

# --- The events that notify -------------------------------------------------------------------
# A breach notice is composed in the database, so a sweep's batch of thousands of notices costs no
# Python per notice: what the notice says is the SQL below, and nowhere else. Times are in each
# recipient's zone ("2026-01-15 21:00 JST", the database function handoff_local_time); a zone this
# machine does not know reads as the site's, as `time_zone_of` does.
_BREACH_NOTICES = """
INSERT INTO handoff_notification AS notice (user_id, kind, lead_id, title, body, url, key, delivery, created_at)
SELECT recipient.id, %s, lead.id,
       LEFT('SLA breach: ' || said.what || ' of ' || lead.full_name, 200),
       'The ' || said.what || ' deadline of lead ' || lead.full_name
         || ' (' || COALESCE(NULLIF(lead.company, ''), lead.email) || ', campaign “' || campaign.name || '”) was due '
         || handoff_local_time(deadline.due_at, said.zone) || E' and was missed.\\nOwner: '
         || COALESCE({who_name}, 'nobody (in the queue)')
         || CASE WHEN deadline.met_at IS NULL THEN ''
                 ELSE E'\\nIt was met late, ' || handoff_local_time(deadline.met_at, said.zone) || '.' END,
       %s || lead.id || %s,
       'breach:' || deadline.id,
       {delivery},
       STATEMENT_TIMESTAMP()
  FROM {told} AS told
  JOIN {deadlines} AS deadline ON deadline.id = told.deadline_id
  JOIN leads_lead AS lead ON lead.id = deadline.lead_id
  JOIN campaigns_campaign AS campaign ON campaign.id = lead.campaign_id
  JOIN {users} AS recipient ON recipient.id = told.user_id
  LEFT JOIN handoff_userpreferences AS preferences ON preferences.user_id = recipient.id
  -- Whose breach the notice names: the deadline's owner, else (a sales deadline waiting in the queue)
  -- the lead's rep.
  LEFT JOIN {users} AS who
         ON who.id = COALESCE(deadline.owner_id, CASE WHEN deadline.kind = ANY(%s) THEN lead.owner_id END)
 CROSS JOIN LATERAL (
   SELECT {what} AS what,
          CASE WHEN preferences.time_zone = ANY(%s) THEN preferences.time_zone ELSE %s END AS zone
 ) AS said
ON CONFLICT (user_id, key) WHERE key <> '' DO NOTHING
RETURNING notice.id, notice.delivery, notice.key, notice.user_id
"""

# A storm tells each person once. Of the breaches a statement tells someone about, the first ones
# (up to STORM_THRESHOLD in STORM_WINDOW, counting the single notices they got in the window before)
# are single notices; the rest fold into one summary per person, kind of deadline and window
# ("SLA breaches: 312 claim deadlines missed since 09:00"), which grows as more come, links to the
# list, and is emailed once, when it is written. Every breach stays on its lead's timeline.
STORM_THRESHOLD = 10
STORM_WINDOW = "5 minutes"

_RANKED = """
ranked AS (
  SELECT told.deadline_id, told.user_id, deadline.kind, said.key, said.since,
         row_number() OVER (PARTITION BY told.user_id ORDER BY told.deadline_id) AS nth,
         person.before
    FROM {told} AS told
    -- The single notices each person got in the window: counted once per person, not per breach.
    JOIN (SELECT told_once.user_id,
                 (SELECT count(*) FROM (SELECT 1 FROM handoff_notification AS recent
                     WHERE recent.user_id = told_once.user_id AND recent.kind = %s AND recent.key LIKE 'breach:%%'
                       AND recent.created_at > STATEMENT_TIMESTAMP() - %s::interval
                     LIMIT %s) AS capped) AS before
            FROM (SELECT DISTINCT user_id FROM {told}) AS told_once) AS person ON person.user_id = told.user_id
    JOIN {deadlines} AS deadline ON deadline.id = told.deadline_id
   CROSS JOIN LATERAL (SELECT date_bin(%s::interval, deadline.breached_at, 'epoch') AS since) AS window_of
   CROSS JOIN LATERAL (
     SELECT window_of.since, 'storm:' || deadline.kind || ':' || extract(epoch FROM window_of.since)::bigint AS key
   ) AS said
   {retold}
),
single AS (SELECT deadline_id, user_id FROM ranked WHERE nth + before <= %s),
storm AS (SELECT deadline_id, user_id, kind, key, since FROM ranked WHERE nth + before > %s),
"""

_SUMMARIES = """
summaries AS (
  INSERT INTO handoff_notification AS notice
         (user_id, kind, lead_id, title, body, url, key, delivery, created_at, count)
  SELECT recipient.id, %s, NULL,
         LEFT('SLA breaches: ' || folded.count || ' ' || said.what || ' deadlines missed since '
              || handoff_local_time(folded.since, said.zone), 200),
         'SLA breaches: ' || folded.count || ' ' || said.what || ' deadlines were missed since '
           || handoff_local_time(folded.since, said.zone)
           || E', too many to tell one by one. Each is on its lead''s timeline; the link lists them.',
         CASE folded.kind {urls} END,
         folded.key,
         {delivery},
         STATEMENT_TIMESTAMP(),
         folded.count
    FROM (SELECT user_id, kind, key, since, count(*) AS count FROM storm GROUP BY user_id, kind, key, since) AS folded
    JOIN {users} AS recipient ON recipient.id = folded.user_id
    LEFT JOIN handoff_userpreferences AS preferences ON preferences.user_id = recipient.id
   CROSS JOIN LATERAL (
     SELECT {what} AS what,
            CASE WHEN preferences.time_zone = ANY(%s) THEN preferences.time_zone ELSE %s END AS zone
   ) AS said
  ON CONFLICT (user_id, key) WHERE key <> '' DO UPDATE
     SET count = notice.count + EXCLUDED.count,
         title = regexp_replace(EXCLUDED.title, '^SLA breaches: [0-9]+',
                                'SLA breaches: ' || (notice.count + EXCLUDED.count)),
         body = regexp_replace(EXCLUDED.body, '^SLA breaches: [0-9]+',
                               'SLA breaches: ' || (notice.count + EXCLUDED.count))
  RETURNING notice.id, notice.delivery, notice.key, notice.user_id, (xmax = 0) AS new
),
notices AS (
  SELECT id, delivery, key, true AS new FROM singles
  UNION ALL
  SELECT summary.id, summary.delivery, 'breach:' || storm.deadline_id, summary.new
    FROM storm JOIN summaries AS summary ON summary.user_id = storm.user_id AND summary.key = storm.key
)
"""


# Who hears of a breach: the deadline's owner (for a sales deadline also the lead's rep, who may
# hold it while the deadline waits in the queue with no owner of its own) if active, and every active
# manager, once each. A follow-up belongs to marketing: the rep who returned the lead has nothing to do.
_BREACH_RECIPIENTS = """
SELECT deadline.id AS deadline_id, person.id AS user_id
  FROM {deadlines} AS deadline
  JOIN leads_lead AS lead ON lead.id = deadline.lead_id
 CROSS JOIN LATERAL (VALUES (deadline.owner_id), (CASE WHEN deadline.kind <> %s THEN lead.owner_id END)) AS owner(id)
  JOIN {users} AS person ON person.id = owner.id AND person.is_active
UNION
SELECT deadline.id, manager.pk FROM {deadlines} AS deadline CROSS JOIN ({managers}) AS manager
"""


def _lead_path_around() -> list[str]:
    """What comes before and after a lead's id in the path of its page: the route reversed once for a
    set of notices, which compose the path around `lead.id` in SQL."""
    marker = 2_147_483_647
    return reverse("leads:detail", args=[marker]).split(str(marker))


# Telling again (an escalation step telling managers the sweep told): a breach folded into the summary
# of its window was told there.
_NOT_IN_A_SUMMARY = """
   WHERE NOT EXISTS (SELECT 1 FROM handoff_notification AS summary
                      WHERE summary.user_id = told.user_id AND summary.key = said.key)
"""


def breach_notices_sql(*, deadlines: str, told: str, again: bool = False) -> tuple[str, list]:
    """The common table expressions that tell each (deadline_id, user_id) of relation `told` about
    that breach, the deadline read from relation `deadlines` (a table or a CTE of deadline rows): single
    notices up to the storm threshold, a summary per person beyond it. The caller puts them in its
    WITH list (PostgreSQL wants data-modifying ones at the top) and reads relation `notices`: (id,
    delivery, key "breach:<deadline id>", new) for each breach told now — a folded one with its
    summary's id, `new` only when the summary was written by this statement. A user already told
    about a breach (same key) is skipped; with `again`, also one told in a summary."""
    what, what_params = choice_label_sql("deadline.kind", Deadline.Kind.choices, lower=True)
    folded_what, folded_what_params = choice_label_sql("folded.kind", Deadline.Kind.choices, lower=True)
    delivery, delivery_params = UserPreferences.delivery_sql(
        Notification.Kind.BREACH, preferences="preferences", user="recipient"
    )
    urls, url_params = _storm_urls()
    users = get_user_model()._meta.db_table
    singles = _BREACH_NOTICES.format(
        deadlines=deadlines,
        told="single",
        users=users,
        who_name=person_name_sql("who"),
        delivery=delivery,
        what=what,
    )
    sql = (
        _RANKED.format(told=told, deadlines=deadlines, retold=_NOT_IN_A_SUMMARY if again else "")
        + f"singles AS ({singles}),"
        + _SUMMARIES.format(urls=urls, delivery=delivery, users=users, what=folded_what)
    )
    zones = [list(time_zone_names()), settings.TIME_ZONE]
    return sql, [
        # ranked, single, storm
        Notification.Kind.BREACH,
        STORM_WINDOW,
        STORM_THRESHOLD + 1,
        STORM_WINDOW,
        STORM_THRESHOLD,
        STORM_THRESHOLD,
        # singles
        Notification.Kind.BREACH,
        *_lead_path_around(),
        *delivery_params,
        list(Deadline.SALES_KINDS),
        *what_params,
        *zones,
        # summaries
        Notification.Kind.BREACH,
        *url_params,
        *delivery_params,
        *folded_what_params,
        *zones,
    ]


def _storm_urls() -> tuple[str, list]:
    """Where a summary links, by kind of deadline: for managers the dashboard's list of today's late
    ones, for the others their list (the queue, My leads, returned leads)."""
    managers = list(active_managers().values_list("pk", flat=True))
    today = timezone.localdate().isoformat()
    figures = {
        Deadline.Kind.CLAIM: ("claims_late", "leads:queue"),
        Deadline.Kind.FIRST_CONTACT: ("first_contacts_late", "leads:mine"),
        Deadline.Kind.FOLLOW_UP: ("follow_ups_late", "campaigns:returned"),
    }
    sql, params = [], []
    for kind, (figure, theirs) in figures.items():
        drill = f"{reverse('dashboard_leads')}?figure={figure}&period=custom&start={today}&end={today}"
        sql.append("WHEN %s THEN CASE WHEN recipient.id = ANY(%s) THEN %s ELSE %s END")
        params += [kind, managers, drill, reverse(theirs)]
    return " ".join(sql), params


def breach_recipients_sql(*, deadlines: str) -> tuple[str, list]:
    """The `SELECT` of (deadline_id, user_id): everyone to tell about each breach of relation
    `deadlines` (see `_BREACH_RECIPIENTS`)."""
    managers, manager_params = active_managers().values("pk").query.sql_with_params()
    sql = _BREACH_RECIPIENTS.format(deadlines=deadlines, users=get_user_model()._meta.db_table, managers=managers)
    return sql, [Deadline.Kind.FOLLOW_UP, *manager_params]


def breach_emails_send(notices: list[tuple]) -> None:
    """Hand the single emails among just-written notices (rows of id, delivery, …) to the email tasks,
    EMAIL_BATCH to a task, after the commit."""
    # A storm's summary stands for many breaches: emailed once, when it was written (`new`).
    emails = sorted({row[0] for row in notices if row[1] == Notification.Delivery.EMAIL and row[3]})
    for start in range(0, len(emails), EMAIL_BATCH):
        transaction.on_commit(partial(send_notification_emails.delay, emails[start : start + EMAIL_BATCH]))


def _breach_notices_run(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        notices = cursor.fetchall()
    breach_emails_send(notices)
    return notices


def breach_notices_record(deadline_ids: list[int]) -> int:
    """Tell everyone concerned about a set of breaches the caller holds locked and marks notified: the
    notifications in one `INSERT … SELECT`, each user's email as they prefer (single ones sent by the
    email tasks after the commit). A user already told about a breach (same key) is not told again.
    Returns how many were told now."""
    recipients, recipient_params = breach_recipients_sql(deadlines="breached")
    notices, notice_params = breach_notices_sql(deadlines="breached", told="told")
    # Only SQL of ours is formatted in; every value is a parameter.
    sql = (
        f"WITH breached AS (SELECT * FROM handoff_deadline WHERE id = ANY(%s)), told AS ({recipients}), "  # noqa: S608
        f"{notices} SELECT id, delivery, key, new FROM notices"
    )
    return len(_breach_notices_run(sql, [list(deadline_ids), *recipient_params, *notice_params]))


def breach_notices_write(told: list[tuple[int, int]]) -> dict[int, int]:
    """Tell these users about these breaches ((deadline id, user id) pairs), as `breach_notices_record`
    does: the escalation step that tells a set of breaches' managers writes through here. A user
    already told (same key) is skipped. Returns, per deadline id, how many were told now."""
    notices, notice_params = breach_notices_sql(deadlines="handoff_deadline", told="told", again=True)
    sql = (
        "WITH told AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS pair(deadline_id, user_id)), "  # noqa: S608
        f"{notices} SELECT id, delivery, key, new FROM notices"
    )
    written = _breach_notices_run(
        sql, [[deadline_id for deadline_id, _ in told], [user_id for _, user_id in told], *notice_params]
    )
    told_now = dict.fromkeys((deadline_id for deadline_id, _ in told), 0)
    for _, _, key, _ in written:
        told_now[int(key.removeprefix("breach:"))] += 1
    return told_now


def breach_notify(*, deadline_id: int) -> bool:
    """Tell everyone concerned about one breach not yet notified (see `breach_notices_record`), once.
    Returns False if it was already done or there is nobody (left) to tell."""
    with transaction.atomic():
        marked = Deadline.objects.filter(
            pk=deadline_id, breached_at__isnull=False, breach_notified_at__isnull=True
        ).update(breach_notified_at=Now())
        if not marked:
            return False
        return breach_notices_record([deadline_id]) > 0


def warning_notify(*, deadline_id: int) -> bool:
    """Warn the owner of one deadline that its due time is close, once (the key); False if there is
    nobody to warn, the deadline ended meanwhile, or the warning was already given."""
    deadline = (
        Deadline.objects.running()
        .select_related("lead", "lead__campaign", "owner")
        .filter(pk=deadline_id, warned_at__isnull=False, breached_at__isnull=True)
        .first()
    )
    if deadline is None or deadline.owner is None or not deadline.owner.is_active:
        return False
    lead, owner = deadline.lead, deadline.owner
    what = deadline.get_kind_display().lower()
    return (
        notify(
            user=owner,
            kind=Notification.Kind.WARNING,
            title=f"SLA warning: {what} of {lead.full_name} is due soon",
            body=(
                f"The {what} deadline of lead {lead.full_name} ({lead.company or lead.email}, campaign "
                f"“{lead.campaign.name}”) is due {time_in_zone(deadline.due_at, owner)}."
            ),
            lead=lead,
            key=f"warning:{deadline.pk}",
        )
        is not None
    )
