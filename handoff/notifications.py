"""Notifications: the in-app centre, the emails and digests, and the SLA events that raise them.

`notify` is the one door for one notification: it creates the in-app notification and, as the user's
preferences say, sends one email (from a Celery task, after the commit) or leaves it for the hourly or
daily digest; breach notices are written a set at a time in the database (`breach_notices_sql`), by
the same rules. Each notification is emailed exactly once: a single email is claimed with a conditional
update before it is sent (`email_claimed_at`), a digest takes its notifications with their row locks,
and a safety net on beat sends the single emails whose task failed or was lost.
"""

import time
import zoneinfo
from datetime import datetime, timedelta
from functools import cache, partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from leads.assignment import active_managers
from leads.models import Lead, LeadEvent

from .bulk import choice_label_sql
from .models import Deadline, Handoff, Notification, UserPreferences
from .models.notifications import time_zone_names
from .people import person_name, person_name_sql

Mode = UserPreferences.EmailMode


# --- Preferences and time zones ---------------------------------------------------------------
def preferences_for(user) -> UserPreferences:
    """The user's preferences; the defaults (unsaved) for a user who never set any."""
    return UserPreferences.objects.filter(user=user).select_related("user").first() or UserPreferences(user=user)


def preferences_edit(*, user) -> UserPreferences:
    """The user's own preferences row, created on first use, for their preferences page."""
    return UserPreferences.objects.get_or_create(user=user)[0]


def time_zone_of(user) -> zoneinfo.ZoneInfo:
    """The zone `user` reads times in; the site's zone if theirs is unset or unknown to this machine."""
    return _zone(UserPreferences.objects.filter(user=user).values_list("time_zone", flat=True).first())


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _at(when: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return f"{timezone.localtime(when, zone):%Y-%m-%d %H:%M %Z}"


def _in_zone(when: datetime, user) -> str:
    return _at(when, time_zone_of(user))


# --- The centre -------------------------------------------------------------------------------
def notifications_of(user) -> QuerySet[Notification]:
    """The user's notifications, newest first; another user's are never in it."""
    return Notification.objects.filter(user=user).select_related("lead").order_by("-created_at", "-id")


UNREAD_BADGE_MAX = 99


def unread_badge(user) -> str:
    """The unread count for the navigation bar: "" for none, "99+" past 99.

    Reads at most 100 ids from the (user, read_at) index, so a user with a huge unread backlog costs
    every page no more than one with a hundred.
    """
    unread = Notification.objects.filter(user=user, read_at__isnull=True).order_by()
    found = len(unread.values_list("pk", flat=True)[: UNREAD_BADGE_MAX + 1])
    if found > UNREAD_BADGE_MAX:
        return f"{UNREAD_BADGE_MAX}+"
    return str(found) if found else ""


def unread_context(request) -> dict:
    """Template context: the unread badge, read at most once per page and only if the page shows it."""
    if not request.user.is_authenticated:
        return {}
    return {"unread_notifications": cache(partial(unread_badge, request.user))}


def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; Notification.DoesNotExist if it is not theirs."""
    notification = Notification.objects.get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- Creating and emailing --------------------------------------------------------------------
def notify(*, user, kind: str, title: str, body: str, lead: Lead | None = None, key: str = "") -> Notification | None:
    """Tell `user` about something: an in-app notification, and an email as their preferences say.

    A `key` names the event ("breach:42"): a second call with the same key for the same user changes
    nothing and returns None, so callers that may run twice (retried tasks) notify once. The single
    email is sent by a Celery task after the commit, so a slow mail server never holds up the caller.
    """
    # Imported here: the tasks module imports this one.
    from .tasks import send_notification_email

    fields = {
        "kind": kind,
        "title": title[:200],
        "body": body,
        "lead": lead,
        "url": lead.get_absolute_url() if lead else "",
        "delivery": preferences_for(user).delivery_for(kind),
    }
    if key:
        notification, created = Notification.objects.get_or_create(user=user, key=key, defaults=fields)
        if not created:
            return None
    else:
        notification = Notification.objects.create(user=user, **fields)
    if notification.delivery == Notification.Delivery.EMAIL:
        transaction.on_commit(partial(send_notification_email.delay, notification.pk))
    return notification


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _footer() -> str:
    return (
        f"\n--\nYour notifications: {_absolute(reverse('notifications'))}\n"
        f"Choose what you receive: {_absolute(reverse('preferences'))}\n"
    )


def _email_text(notification: Notification) -> str:
    text = notification.body.strip()
    if notification.url:
        text += f"\n\nOpen the lead: {_absolute(notification.url)}"
    return text


# A worker that claimed a single email and died before marking it sent leaves the claim behind; after
# this long the safety net sends it again (EMAIL_TIMEOUT keeps a live send well inside it).
EMAIL_CLAIM_LEASE = timedelta(minutes=10)
# Single emails not sent this long after their notification are handed to the safety net.
UNSENT_AFTER = timedelta(minutes=5)
# Emails one task sends; and how many the safety net hands out per run (it runs every minute).
EMAIL_BATCH = 100
EMAIL_RESEND_MAX = 20_000


def _email_claimable(now: datetime) -> QuerySet[Notification]:
    """Single emails not sent and not held by a live claim."""
    return Notification.objects.filter(delivery=Notification.Delivery.EMAIL, emailed_at__isnull=True).filter(
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_LEASE)
    )


def notification_email_send(*, notification_id: int) -> bool:
    """Send the one email of a notification meant to be emailed on its own; False if it already went,
    another worker holds it, or it was never meant to be emailed.

    Exactly once, whatever is delivered twice or fails in between: the worker first claims the email
    with a conditional update, committed before anything is sent, so a second delivery of the task,
    a retry or the safety net finds it taken. A send that fails gives the claim back for the retry;
    the database failing after the send is retried until the email is marked sent. Only a worker
    killed between its claim and that mark leaves a claim behind; the safety net sends that email
    after EMAIL_CLAIM_LEASE.
    """
    now = timezone.now()
    if not _email_claimable(now).filter(pk=notification_id).update(email_claimed_at=now):
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.email:
        return False
    try:
        send_mail(
            subject=notification.title,
            message=_email_text(notification) + "\n" + _footer(),
            from_email=None,
            recipient_list=[notification.user.email],
        )
    except BaseException:
        Notification.objects.filter(pk=notification_id, email_claimed_at=now).update(email_claimed_at=None)
        raise
    _retry_on_database_error(lambda: Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now()))
    return True


def _retry_on_database_error(write, *, attempts: int = 6) -> None:
    """Run `write`, reconnecting and retrying with backoff (1, 2, 4 … s) while the database is away:
    it records something that already happened outside the database (an email went out)."""
    for attempt in range(attempts):
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if attempt == attempts - 1 or connection.in_atomic_block:
                raise
            connection.close()
            time.sleep(2**attempt)


def notification_emails_resend(*, older_than: timedelta = UNSENT_AFTER, now: datetime | None = None) -> int:
    """The safety net: enqueue again the single emails not sent `older_than` after their notification
    and not held by a live claim (their task failed for good or its message was lost), a batch per
    task. The claim makes a send that was merely slow safe to enqueue twice. Returns how many."""
    from .tasks import send_notification_emails

    now = now or timezone.now()
    # Answered from the partial index of unsent single emails (notification_email_unsent_idx).
    unsent = list(
        _email_claimable(now)
        .filter(created_at__lt=now - older_than)
        .exclude(user__email="")
        .order_by("created_at")
        .values_list("pk", flat=True)[:EMAIL_RESEND_MAX]
    )
    for start in range(0, len(unsent), EMAIL_BATCH):
        transaction.on_commit(partial(send_notification_emails.delay, unsent[start : start + EMAIL_BATCH]))
    return len(unsent)


def _pending_digest(mode: str) -> QuerySet[Notification]:
    """Notifications waiting for a digest of `mode`. Someone who moved from a digest back to single
    emails still gets what was waiting, in the hourly one."""
    pending = Notification.objects.filter(delivery=Notification.Delivery.DIGEST, emailed_at__isnull=True)
    if mode == Mode.DAILY:
        return pending.filter(user__preferences__email_mode=Mode.DAILY)
    return pending.exclude(user__preferences__email_mode=Mode.DAILY)


def digests_send(*, mode: str, now: datetime | None = None) -> int:
    """Email each user with notifications waiting for the `mode` ("hourly" or "daily") digest one summary
    of them, and mark them emailed; returns how many emails went out.

    Exactly once even when two workers run it together: each user's notifications are taken with
    SKIP LOCKED, so the second run finds them locked or already emailed.
    """
    if mode not in (Mode.HOURLY, Mode.DAILY):
        raise ValueError(f"No digest called {mode!r}")
    now = now or timezone.now()
    sent = 0
    user_ids = _pending_digest(mode).order_by().values_list("user_id", flat=True).distinct()
    for user in get_user_model().objects.filter(pk__in=user_ids).exclude(email="").order_by("pk"):
        with transaction.atomic():
            batch = list(
                _pending_digest(mode)
                .filter(user=user)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("created_at", "id")
            )
            if not batch:
                continue
            send_mail(
                subject=f"Handoff: {len(batch)} notification{'s' if len(batch) != 1 else ''} ({mode} digest)",
                message=_digest_text(batch, user),
                from_email=None,
                recipient_list=[user.email],
            )
            Notification.objects.filter(pk__in=[n.pk for n in batch]).update(emailed_at=now)
            sent += 1
    return sent


def _digest_text(batch: list[Notification], user) -> str:
    zone = time_zone_of(user)
    parts = [
        f"{timezone.localtime(n.created_at, zone):%Y-%m-%d %H:%M %Z} · {n.get_kind_display()}\n"
        f"{n.title}\n{_email_text(n)}"
        for n in batch
    ]
    return "\n\n".join(parts) + "\n" + _footer()


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
RETURNING notice.id, notice.delivery, notice.key
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


def breach_notices_sql(*, deadlines: str, told: str) -> tuple[str, list]:
    """The `INSERT … SELECT` that tells each (deadline_id, user_id) of relation `told` about that
    breach, the deadline read from relation `deadlines` (a table or a CTE of deadline rows). A user
    already told about a breach (same key) is skipped. It returns each notice's id, delivery and key."""
    what, what_params = choice_label_sql("deadline.kind", Deadline.Kind.choices, lower=True)
    delivery, delivery_params = UserPreferences.delivery_sql(
        Notification.Kind.BREACH, preferences="preferences", user="recipient"
    )
    sql = _BREACH_NOTICES.format(
        deadlines=deadlines,
        told=told,
        users=get_user_model()._meta.db_table,
        who_name=person_name_sql("who"),
        delivery=delivery,
        what=what,
    )
    return sql, [
        Notification.Kind.BREACH,
        *_lead_path_around(),
        *delivery_params,
        list(Deadline.SALES_KINDS),
        *what_params,
        list(time_zone_names()),
        settings.TIME_ZONE,
    ]


def breach_recipients_sql(*, deadlines: str) -> tuple[str, list]:
    """The `SELECT` of (deadline_id, user_id): everyone to tell about each breach of relation
    `deadlines` (see `_BREACH_RECIPIENTS`)."""
    managers, manager_params = active_managers().values("pk").query.sql_with_params()
    sql = _BREACH_RECIPIENTS.format(deadlines=deadlines, users=get_user_model()._meta.db_table, managers=managers)
    return sql, [Deadline.Kind.FOLLOW_UP, *manager_params]


def breach_emails_send(notices: list[tuple]) -> None:
    """Hand the single emails among just-written notices (rows of id, delivery, …) to the email tasks,
    EMAIL_BATCH to a task, after the commit."""
    from .tasks import send_notification_emails

    emails = sorted(row[0] for row in notices if row[1] == Notification.Delivery.EMAIL)
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
    sql = f"WITH breached AS (SELECT * FROM handoff_deadline WHERE id = ANY(%s)), told AS ({recipients}) {notices}"  # noqa: S608
    return len(_breach_notices_run(sql, [list(deadline_ids), *recipient_params, *notice_params]))


def breach_notices_write(told: list[tuple[int, int]]) -> dict[int, int]:
    """Tell these users about these breaches ((deadline id, user id) pairs), as `breach_notices_record`
    does: the escalation step that tells a set of breaches' managers writes through here. A user
    already told (same key) is skipped. Returns, per deadline id, how many were told now."""
    notices, notice_params = breach_notices_sql(deadlines="handoff_deadline", told="told")
    sql = f"WITH told AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS pair(deadline_id, user_id)) {notices}"  # noqa: S608
    written = _breach_notices_run(
        sql, [[deadline_id for deadline_id, _ in told], [user_id for _, user_id in told], *notice_params]
    )
    told_now = dict.fromkeys((deadline_id for deadline_id, _ in told), 0)
    for _, _, key in written:
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
                f"“{lead.campaign.name}”) is due {_in_zone(deadline.due_at, owner)}."
            ),
            lead=lead,
            key=f"warning:{deadline.pk}",
        )
        is not None
    )


def notify_lead_returned(lead_id: int) -> Notification | None:
    """Tell the campaign's owner that sales returned one of its leads, once per return. Meant to run
    after the return commits (`transaction.on_commit(partial(notify_lead_returned, lead.pk))`)."""
    handoff = (
        Handoff.objects.filter(lead_id=lead_id, outcome=Handoff.Outcome.RETURNED)
        .select_related("lead__campaign__owner", "claimed_by")
        .order_by("-closed_at", "-id")
        .first()
    )
    if handoff is None:
        return None
    lead = handoff.lead
    owner = lead.campaign.owner
    if not owner.is_active:
        return None
    rep = handoff.claimed_by
    by = f" by {person_name(rep)}" if rep else ""
    return notify(
        user=owner,
        kind=Notification.Kind.RETURNED,
        title=f"Lead returned: {lead.full_name}",
        body=(
            f"Sales returned lead {lead.full_name} ({lead.company or lead.email}) of campaign "
            f"“{lead.campaign.name}”{by} on {_in_zone(handoff.closed_at, owner)}.\n"
            f"Reason: {handoff.return_reason or '—'}\n"
            "Re-nurture or disqualify it."
        ),
        lead=lead,
        key=f"returned:{handoff.pk}",
    )


def notify_lead_assigned(event_id: int) -> list[Notification]:
    """Tell the new owner of a lead a manager assigned, and the rep who lost it on a reassignment,
    once per assignment (the keys). Meant to run after the assignment commits."""
    event = LeadEvent.objects.select_related("lead__campaign", "actor").get(pk=event_id)
    lead, by = event.lead, person_name(event.actor, nobody="Handoff")
    users = get_user_model().objects.filter(is_active=True).in_bulk([event.data.get("rep"), event.data.get("from")])
    new_owner, previous = users.get(event.data.get("rep")), users.get(event.data.get("from"))
    about = f"lead {lead.full_name} ({lead.company or lead.email}, campaign “{lead.campaign.name}”)"
    notices = [
        (new_owner, "assigned", f"Assigned to you: {lead.full_name}", f"{by} gave you {about}"),
        (previous, "unassigned", f"Reassigned: {lead.full_name}", f"{by} gave {about} to {person_name(new_owner)}"),
    ]
    told = [
        notify(
            user=user,
            kind=Notification.Kind.ASSIGNED,
            title=title,
            body=f"{body} on {_in_zone(event.created_at, user)}.",
            lead=lead,
            key=f"{key}:{event.pk}",
        )
        for user, key, title, body in notices
        if user is not None
    ]
    return [notification for notification in told if notification is not None]
