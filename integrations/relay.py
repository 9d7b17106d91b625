"""The relay: outbox rows become deliveries, deliveries are sent until accepted, storms are summed up.

At least once, never lost: an outbox row is deleted in the transaction that makes its deliveries, and
a delivery is taken for sending with a lease (its next attempt moved a few minutes on) and marked
delivered only after the answer came; a worker killed in between leaves the row or the lease, and the
next run sends it again under the same `webhook-id`. Every step takes its rows with `SKIP LOCKED`, so
any number of relays can run at once. Nothing here holds a lock while it waits on a network.
"""

import ipaddress
import logging
import socket
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from common.localtime import moment_text
from leads.models import RepProfile
from notifications.models import Notification
from notifications.services import notify, time_zone_of
from people.roles import Role

from .messages import DEADLINE_KINDS, Card, alert_card, render
from .models import Alert, Attempt, Channel, Delivery, Endpoint, EventType, OutboxEvent, Storm
from .payloads import Happening, absolute, happenings

logger = logging.getLogger(__name__)

OUTBOX_BATCH = 500
SEND_BATCH = 20
# Retries: 10 s, 40 s, 2.7 min, 11 min, 43 min, 2.8 h, then every 12 h; the 10th failure gives up.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=12)
MAX_ATTEMPTS = 10
USER_AGENT = "Handoff-Webhooks/1"


def retry_delay(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed attempt: ×4 each time, at most 12 hours."""
    return min(FIRST_RETRY * 4 ** (failures - 1), LONGEST_RETRY)


def _lease() -> timedelta:
    """How long a taken delivery is left to the relay that took it: a whole batch timing out, twice."""
    return timedelta(seconds=2 * SEND_BATCH * settings.WEBHOOK_TIMEOUT + 60)


# --- Outbox to deliveries ----------------------------------------------------------------------
def outbox_fan_out(*, batch_size: int = OUTBOX_BATCH, now: datetime | None = None) -> int:
    """Turn every outbox row into its deliveries (one per enabled endpoint subscribed to its type, one
    per channel that wants it, or a tick of a storm); returns how many rows it took."""
    taken = 0
    while True:
        with transaction.atomic():
            rows = list(OutboxEvent.objects.select_for_update(skip_locked=True).order_by("pk")[:batch_size])
            if not rows:
                break
            _deliveries_make(happenings(rows), now=now or timezone.now())
            OutboxEvent.objects.filter(pk__in=[row.pk for row in rows]).delete()
        taken += len(rows)
        if len(rows) < batch_size:
            break
    return taken


def _deliveries_make(said: list[Happening], *, now: datetime) -> None:
    types = {happening.event_type for happening in said}
    endpoints = list(Endpoint.objects.filter(enabled=True, events__overlap=list(types)))
    deliveries = [
        Delivery(
            endpoint=endpoint,
            event_type=happening.event_type,
            message_id=happening.message_id,
            summary=happening.summary[:300],
            body=happening.body,
            created_at=now,
            next_attempt_at=now,
        )
        for happening in said
        for endpoint in endpoints
        if happening.event_type in endpoint.events
    ]
    deliveries += _alerts_make([h for h in said if h.lead_event is not None], now=now)
    Delivery.objects.bulk_create(deliveries)


def _alerts_make(said: list[Happening], *, now: datetime) -> list[Delivery]:
    """The alerts of a batch for the channels that want them; past the storm threshold a channel's
    alerts of one type are held and counted in its Storm instead."""
    channels = list(Channel.objects.filter(enabled=True, events__overlap=list({h.event_type for h in said})))
    if not channels:
        return []
    window = timedelta(seconds=settings.ALERT_STORM_WINDOW)
    recent = Counter(
        {
            (row["channel"], row["event_type"]): row["sent"]
            for row in Delivery.objects.filter(channel__in=channels, created_at__gte=now - window)
            .values("channel", "event_type")
            .annotate(sent=Count("pk"))
        }
    )
    storming = set(
        Storm.objects.filter(channel__in=channels, summarised_at__isnull=True).values_list("channel", "event_type")
    )
    people = {h.subject_person_id for h in said} - {None}
    team_of = dict(RepProfile.objects.filter(user_id__in=people).values_list("user_id", "team_id"))
    zones = {channel.person_id: time_zone_of(channel.person) for channel in channels if channel.person_id}
    alerts, held = [], defaultdict(int)
    for happening in said:
        person = happening.subject_person_id
        for channel in channels:
            if happening.event_type not in channel.events:
                continue
            if channel.person_id is not None and person != channel.person_id:
                continue
            # A team's channel: its reps' leads, and the queue's (nobody holds those yet).
            if channel.team_id is not None and person is not None and team_of.get(person) != channel.team_id:
                continue
            key = (channel.pk, happening.event_type)
            if key in storming or recent[key] >= settings.ALERT_STORM_THRESHOLD:
                storming.add(key)
                held[(channel.pk, happening.event_type, happening.lead_event.data.get("kind", ""))] += 1
                continue
            recent[key] += 1
            card = alert_card(happening, zones.get(channel.person_id, timezone.get_default_timezone()))
            alerts.append(
                Delivery(
                    channel=channel,
                    event_type=happening.event_type,
                    message_id=happening.message_id,
                    summary=card.title[:300],
                    body=render(card, channel.kind),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    if held:
        _storms_add(held, now=now)
    return alerts


_STORM_ADD = """
INSERT INTO integrations_storm (channel_id, event_type, subject, started_at, last_at, held)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (channel_id, event_type, subject) WHERE summarised_at IS NULL
DO UPDATE SET held = integrations_storm.held + EXCLUDED.held, last_at = EXCLUDED.last_at
"""


def _storms_add(held: dict[tuple[int, str, str], int], *, now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(_STORM_ADD, [(*key, now, now, count) for key, count in held.items()])


# --- Storm summaries ----------------------------------------------------------------------------
def storms_summarise(*, now: datetime | None = None) -> int:
    """Send one summary for each storm that has been quiet for a minute or has lasted a window (a
    storm that goes on gets a summary per window); returns how many storms it closed."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.ALERT_STORM_WINDOW)
    with transaction.atomic():
        storms = list(
            Storm.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel")
            .filter(summarised_at__isnull=True)
            .filter(Q(last_at__lte=now - timedelta(minutes=1)) | Q(started_at__lte=now - window))
        )
        summaries = [_summary(storm, now=now) for storm in storms if storm.channel.wants(Alert.STORM_SUMMARIES)]
        Delivery.objects.bulk_create(summaries)
        Storm.objects.filter(pk__in=[storm.pk for storm in storms]).update(summarised_at=now)
    return len(storms)


def _summary(storm: Storm, *, now: datetime) -> Delivery:
    channel = storm.channel
    zone = time_zone_of(channel.person) if channel.person_id else timezone.get_default_timezone()
    kind = DEADLINE_KINDS.get(storm.subject, "").lower()
    plural = "s" if storm.held != 1 else ""
    what = {
        EventType.DEADLINE_BREACHED: f"{kind} deadline{plural} breached",
        EventType.DEADLINE_WARNED: f"{kind} deadline{plural} close to breach",
        EventType.LEAD_ASSIGNED: f"lead{plural} assigned",
    }[storm.event_type].strip()
    since = timezone.localtime(storm.started_at, zone)
    title = f"{storm.held} more {what} since {since:%H:%M}"
    card = Card(
        title=title,
        text="Too many at once to send one by one: this is one message for all of them.",
        link=_storm_link(storm),
    )
    return Delivery(
        channel=channel,
        event_type=storm.event_type,
        message_id=f"storm_{storm.pk}",
        summary=f"Storm summary: {title}"[:300],
        body=render(card, channel.kind),
        created_at=now,
        next_attempt_at=now,
    )


def _storm_link(storm: Storm) -> tuple[str, str]:
    """The leads behind a storm: the dashboard's late deadlines of that kind for a team's managers,
    My leads for a person."""
    if storm.channel.person_id or storm.event_type == EventType.LEAD_ASSIGNED:
        return "Open My leads", absolute(reverse("leads:mine"))
    figure = {"claim": "claims_late", "first_contact": "first_contacts_late", "follow_up": "follow_ups_late"}
    return "See them on the dashboard", absolute(
        reverse("dashboard_leads") + f"?figure={figure.get(storm.subject, 'claims_late')}"
    )


# --- Sending ------------------------------------------------------------------------------------
def deliveries_send(*, batch_size: int = SEND_BATCH, now: datetime | None = None) -> int:
    """Send the deliveries due (to enabled targets), a batch at a time until none is due; returns how
    many attempts it made."""
    made = 0
    # One client for the run: its connections and TLS set-up are reused (a client per request cost
    # ~45 ms each, mostly loading the CA certificates).
    with httpx.Client(timeout=settings.WEBHOOK_TIMEOUT, follow_redirects=False) as client:
        while True:
            taken = _take(batch_size, now=now or timezone.now())
            for delivery in taken:
                _attempt(delivery, client)
            made += len(taken)
            if len(taken) < batch_size:
                return made


def _take(batch_size: int, *, now: datetime) -> list[Delivery]:
    """Lease the next due deliveries: their next attempt moves past the lease, so another relay leaves
    them alone, and a relay killed while sending leaves them to be sent again when it runs out."""
    with transaction.atomic():
        due = (
            Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(
                Q(endpoint__in=Endpoint.objects.filter(enabled=True).values("pk"))
                | Q(channel__in=Channel.objects.filter(enabled=True).values("pk"))
            )
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
        )
        ids = list(due.values_list("pk", flat=True)[:batch_size])
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + _lease())
    return list(Delivery.objects.filter(pk__in=ids).select_related("endpoint", "channel").order_by("pk"))


def signed_headers(endpoint: Endpoint, *, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks' three headers for `body` sent to `endpoint` at `at`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(message_id, at, body),
    }


def _private_address(url: str) -> str | None:
    """The address of `url`'s host that is not on the internet (loopback, private, link-local), if
    any: an endpoint's name may have been pointed into our own network after the form checked it.
    (A name that changes between this look-up and the connection is not caught.)"""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return None  # the request fails and says why
    return next((address for address in sorted(addresses) if not ipaddress.ip_address(address).is_global), None)


def _attempt(delivery: Delivery, client: httpx.Client) -> Attempt:
    at = timezone.now()
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    if delivery.endpoint_id:
        headers |= signed_headers(delivery.endpoint, message_id=delivery.message_id, body=delivery.body, at=at)
    attempt = Attempt(
        delivery=delivery,
        at=at,
        timestamp=int(at.timestamp()) if delivery.endpoint_id else None,
        signature=headers.get("webhook-signature", ""),
    )
    started = time.monotonic()
    retry_after = None
    private = None if settings.INTEGRATIONS_ALLOW_LOOPBACK else _private_address(delivery.target.url)
    try:
        if private:
            raise httpx.ConnectError(f"refused: {private} is not an address on the internet")
        answer = client.post(delivery.target.url, content=delivery.body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
    else:
        attempt.status_code = answer.status_code
        attempt.response = answer.text[:500]
        if not attempt.succeeded:
            attempt.error = f"HTTP {answer.status_code}"
        if answer.status_code == 429 and answer.headers.get("retry-after", "").isdigit():
            retry_after = timedelta(seconds=int(answer.headers["retry-after"]))
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    _record(delivery, attempt, retry_after=retry_after)
    return attempt


def _record(delivery: Delivery, attempt: Attempt, *, retry_after: timedelta | None) -> None:
    """Write the attempt and its consequences: delivered, or the next retry, or given up; the target's
    health, disabling it when it has failed for too long."""
    now = attempt.at
    with transaction.atomic():
        attempt.save()
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("endpoint", "channel").get(pk=delivery.pk)
        )
        delivery.attempts += 1
        delivery.last_status_code = attempt.status_code
        delivery.last_error = attempt.error
        fields = ["attempts", "last_status_code", "last_error", "status", "next_attempt_at", "delivered_at"]
        if attempt.succeeded:
            delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
        else:
            delivery.next_attempt_at = now + max(retry_delay(delivery.attempts), retry_after or timedelta())
        delivery.save(update_fields=fields)
        _target_health(delivery.target, attempt)


def _target_health(target: Endpoint | Channel, attempt: Attempt) -> None:
    model = type(target)
    if attempt.succeeded:
        model.objects.filter(pk=target.pk).update(failing_since=None, last_error="", last_success_at=attempt.at)
        return
    failing_since = target.failing_since or attempt.at
    model.objects.filter(pk=target.pk).update(failing_since=failing_since, last_error=attempt.error[:500])
    disable_after = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if target.enabled and attempt.at - failing_since >= disable_after:
        _disable(target, since=failing_since, error=attempt.error)


def _disable(target: Endpoint | Channel, *, since: datetime, error: str) -> None:
    """Switch a target off after it failed for too long, and tell whoever looks after it: its person,
    or every manager."""
    reason = f"Every delivery failed since {moment_text(since)} (last: {error or 'no answer'})."
    changed = type(target).objects.filter(pk=target.pk, enabled=True).update(enabled=False, disabled_reason=reason)
    if not changed:
        return
    person = getattr(target, "person", None)
    people = (
        [person] if person is not None else get_user_model().objects.filter(groups__name=Role.MANAGERS, is_active=True)
    )
    what = "Webhook" if isinstance(target, Endpoint) else f"{target.get_kind_display()} channel"
    for user in people:
        notify(
            user=user,
            kind=Notification.Kind.INTEGRATION,
            title=f"{what} “{target.name}” switched off: it kept failing",
            body=f"{reason} Fix it, then switch it on again; what waited is sent then.",
            url=target.get_absolute_url(),
            key=f"integration-off:{type(target).__name__}:{target.pk}:{int(since.timestamp())}",
        )
    logger.warning("%s %s disabled: %s", what, target.pk, reason)


def log_purge(*, now: datetime | None = None) -> int:
    """Forget deliveries finished (delivered or given up) more than WEBHOOK_LOG_RETENTION_DAYS ago,
    with their attempts, and storms summed up as long ago; returns how many deliveries went."""
    before = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    Storm.objects.filter(summarised_at__lt=before).delete()
    finished = Delivery.objects.filter(created_at__lt=before).exclude(status=Delivery.Status.PENDING)
    return finished.delete()[1].get(Delivery._meta.label, 0)


def relay(*, now: datetime | None = None) -> dict[str, int]:
    """One run: the outbox into deliveries, storms into summaries, then everything due sent."""
    return {
        "outbox": outbox_fan_out(now=now),
        "storms": storms_summarise(now=now),
        "attempts": deliveries_send(now=now),
    }
