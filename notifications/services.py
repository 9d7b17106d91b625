"""Notifications: the in-app centre, the emails and digests, and each user's preferences and zone.

`notify` is the one door for one notification: it creates the in-app notification and, as the user's
preferences say, sends one email (from a Celery task, after the commit) or leaves it for the hourly or
daily digest; breach notices are written a set at a time in the database (`enforcement.notices`), by
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
from django.db.models import Model, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from common.localtime import moment_text
from common.outbox import outbox_send
from notifications.models import Notification, UserPreferences

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
    return moment_text(when, zone)


def time_in_zone(when: datetime, user) -> str:
    """`when` as `user` reads it: date, time and their zone's abbreviation."""
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
def notify(
    *, user, kind: str, title: str, body: str, lead: Model | None = None, key: str = "", url: str = ""
) -> Notification | None:
    """Tell `user` about something: an in-app notification, and an email as their preferences say.
    A `lead` it is about becomes its link; a notice about something else links to `url` (a path).

    A `key` names the event ("breach:42"): a second call with the same key for the same user changes
    nothing and returns None, so callers that may run twice (retried tasks) notify once. The single
    email is sent by a Celery task after the commit, so a slow mail server never holds up the caller.
    """
    # Imported here: the tasks module imports this one.
    from notifications.tasks import send_notification_email

    fields = {
        "kind": kind,
        "title": title[:200],
        "body": body,
        "lead": lead,
        "url": lead.get_absolute_url() if lead else url,
        "delivery": preferences_for(user).delivery_for(kind),
    }
    if key:
        notification, created = Notification.objects.get_or_create(user=user, key=key, defaults=fields)
        if not created:
            return None
    else:
        notification = Notification.objects.create(user=user, **fields)
    if notification.delivery == Notification.Delivery.EMAIL:
        # Through the outbox: a broker that is down delays the email, never fails the change.
        outbox_send(send_notification_email, notification.pk)
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
        text += f"\n\n{'Open the lead' if notification.lead_id else 'Open it'}: {_absolute(notification.url)}"
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
    from notifications.tasks import send_notification_emails

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
    parts = [f"{moment_text(n.created_at, zone)} · {n.get_kind_display()}\n{n.title}\n{_email_text(n)}" for n in batch]
    return "\n\n".join(parts) + "\n" + _footer()
