"""Notifications: the in-app centre, the emails and digests, and the SLA events that raise them.

`notify` is the one door: it creates the in-app notification and, as the user's preferences say, sends
one email (from a Celery task, after the commit) or leaves it for the hourly or daily digest. Each
notification is emailed at most once: the single email and the digest both claim it with its row lock
and `emailed_at`.
"""

import zoneinfo
from datetime import datetime
from functools import cache, partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from leads.assignment import active_managers
from leads.models import Lead, LeadEvent

from .models import Deadline, Handoff, Notification, UserPreferences
from .people import person_name

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
    name = UserPreferences.objects.filter(user=user).values_list("time_zone", flat=True).first()
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _in_zone(when: datetime, user) -> str:
    return f"{timezone.localtime(when, time_zone_of(user)):%Y-%m-%d %H:%M %Z}"


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


def notification_email_send(*, notification_id: int) -> bool:
    """Send the one email of a notification meant to be emailed on its own; False if it already went
    (or was never meant to). Safe to run twice, even at the same time: the second finds it sent."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, delivery=Notification.Delivery.EMAIL, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.user.email:
            return False
        # Sent while the row is locked: if the mail server fails, nothing is marked and the retry sends it.
        send_mail(
            subject=notification.title,
            message=_email_text(notification) + "\n" + _footer(),
            from_email=None,
            recipient_list=[notification.user.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


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
def breach_notice(*, user, deadline: Deadline) -> Notification | None:
    """Tell one user about one breach. The key makes it once per user and breach, whoever sends it:
    the breach notice to owner and managers, or the escalation step that tells the rep's manager,
    whichever of the two tasks runs first. None if `user` was already told."""
    lead = deadline.lead
    what = deadline.get_kind_display().lower()
    who = deadline.owner or (lead.owner if deadline.kind in Deadline.SALES_KINDS else None)
    met = f"\nIt was met late, {_in_zone(deadline.met_at, user)}." if deadline.met_at else ""
    return notify(
        user=user,
        kind=Notification.Kind.BREACH,
        title=f"SLA breach: {what} of {lead.full_name}",
        body=(
            f"The {what} deadline of lead {lead.full_name} ({lead.company or lead.email}, campaign "
            f"“{lead.campaign.name}”) was due {_in_zone(deadline.due_at, user)} and was missed.\n"
            f"Owner: {person_name(who, nobody='nobody (in the queue)')}{met}"
        ),
        lead=lead,
        key=f"breach:{deadline.pk}",
    )


def breach_notify(*, deadline_id: int) -> bool:
    """Tell the deadline's owner (for a sales deadline, also the lead's rep) and every active manager
    about one breach, once: a notification each, emailed as each prefers. Returns False if it was
    already done or there is nobody to tell."""
    with transaction.atomic():
        deadline = (
            Deadline.objects.select_for_update(of=("self",))
            .select_related("lead", "lead__campaign", "lead__owner", "owner")
            .filter(pk=deadline_id, breached_at__isnull=False, breach_notified_at__isnull=True)
            .first()
        )
        if deadline is None:
            return False
        lead = deadline.lead
        # A sales deadline waiting in the queue has no owner of its own; the lead's rep may still be
        # told. A follow-up belongs to marketing: the rep who returned the lead has nothing to do.
        owners = [deadline.owner] if deadline.kind == Deadline.Kind.FOLLOW_UP else [deadline.owner, lead.owner]
        owners = [user for user in owners if user is not None and user.is_active]
        recipients = list({user.pk: user for user in [*owners, *active_managers()]}.values())
        for user in recipients:
            breach_notice(user=user, deadline=deadline)
        deadline.breach_notified_at = timezone.now()
        deadline.save(update_fields=["breach_notified_at"])
    return bool(recipients)


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
