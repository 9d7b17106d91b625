"""The daily digest a channel can ask for: the last 24 hours' breaches and warnings and what waits
now, for a team (its reps' deadlines and the queue's) or a person (their own)."""

import uuid
from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, RepProfile
from notifications.services import time_zone_of
from sla.models import Deadline

from .messages import Card, render
from .models import Alert, Channel, Delivery
from .payloads import absolute

DIGEST_EVENT = "handoff.daily_digest"


def digest_card(channel: Channel, *, now: datetime) -> Card:
    since = now - timedelta(hours=24)
    if channel.person_id:
        mine = Q(owner=channel.person)
        link = ("Open My leads", absolute(reverse("leads:mine")))
        open_label, open_leads = (
            "Your open leads",
            Lead.objects.filter(owner=channel.person, status__in=Lead.WORKED_BY_SALES).count(),
        )
    else:
        reps = RepProfile.objects.filter(team=channel.team).values("user")
        mine = Q(owner__in=reps) | Q(owner__isnull=True)
        link = ("Open the dashboard", absolute(reverse("dashboard")))
        open_label, open_leads = "Waiting in the queue now", Lead.objects.filter(status=Lead.Status.HANDED_OFF).count()
    deadlines = Deadline.objects.filter(mine)
    breached = deadlines.filter(breached_at__gte=since, breached_at__lt=now).count()
    warned = deadlines.filter(warned_at__gte=since, warned_at__lt=now).count()
    zone = time_zone_of(channel.person) if channel.person_id else timezone.get_default_timezone()
    return Card(
        title=f"Daily digest for {channel.name}: the 24 hours to {timezone.localtime(now, zone):%a %d %b %H:%M}",
        text="",
        facts=[("Breaches", str(breached)), ("Warnings", str(warned)), (open_label, str(open_leads))],
        link=link,
    )


def daily_digests_send(*, now: datetime | None = None) -> int:
    """Queue today's digest for every enabled channel that asked for one (once a day: a second run
    the same day finds it queued); returns how many it queued. The relay sends them."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    queued = 0
    channels = Channel.objects.filter(enabled=True, alerts__contains=[Alert.DAILY_DIGEST]).select_related("person")
    for channel in channels:
        already = Delivery.objects.filter(channel=channel, event_type=DIGEST_EVENT, created_at__date=today)
        if already.exists():
            continue
        card = digest_card(channel, now=now)
        Delivery.objects.create(
            channel=channel,
            event_type=DIGEST_EVENT,
            message_id=f"msg_{uuid.uuid4().hex}",
            summary=card.title[:300],
            body=render(card, channel.kind),
            created_at=now,
            next_attempt_at=now,
        )
        queued += 1
    return queued
