"""The doors to endpoints and channels: who may see which (`access_*`, the authorisation is the
query), saving them, the test button and the replay, each nudging the relay after the commit."""

import json
import uuid

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.outbox import outbox_send
from people.names import person_name
from people.roles import Role, has_role

from .messages import Card, render
from .models import TEST_EVENT, Channel, Delivery, Endpoint
from .payloads import absolute, envelope


def _nudge() -> None:
    """Have a worker run the relay as soon as this transaction commits, not at the next beat; through
    the task outbox, so a broker that is down delays the message (beat sends it anyway) and never
    fails the page."""
    from .tasks import relay

    outbox_send(relay)


def channels_of(user) -> QuerySet[Channel]:
    """The channels `user` may see and change: their own, and for managers every team's."""
    mine = Channel.objects.filter(person=user)
    if has_role(user, Role.MANAGERS):
        mine = mine | Channel.objects.filter(team__isnull=False)
    return mine.select_related("team", "person").order_by("team__name", "name", "pk")


def access_channel(user, channel_id: int) -> Channel:
    """The channel if `user` may see it; Channel.DoesNotExist otherwise (also for someone else's)."""
    return channels_of(user).get(pk=channel_id)


def endpoints_of(user) -> QuerySet[Endpoint]:
    """Webhook endpoints are the managers'; nobody else sees any."""
    return Endpoint.objects.all() if has_role(user, Role.MANAGERS) else Endpoint.objects.none()


def access_endpoint(user, endpoint_id: int) -> Endpoint:
    return endpoints_of(user).get(pk=endpoint_id)


def access_delivery(user, delivery_id: int) -> Delivery:
    """A delivery of an endpoint or channel `user` may see."""
    delivery = Delivery.objects.select_related("endpoint", "channel").get(pk=delivery_id)
    if delivery.endpoint_id:
        access_endpoint(user, delivery.endpoint_id)
    else:
        access_channel(user, delivery.channel_id)
    return delivery


def target_save(*, target: Channel | Endpoint, actor) -> Channel | Endpoint:
    """Save a new or changed endpoint or channel. Switching one on again forgets its failures, and
    deliveries that waited while it was off go out at the next run."""
    if target.pk is None:
        target.created_by = actor
    if target.enabled:
        target.disabled_reason = ""
        target.failing_since = None
    target.full_clean()
    with transaction.atomic():
        target.save()
        if target.enabled:
            _nudge()
    return target


def target_delete(*, target: Channel | Endpoint) -> None:
    """Remove an endpoint or channel with its delivery log."""
    target.delete()


def _test_message(target: Channel | Endpoint, actor) -> tuple[str, str]:
    """(summary, body) of a test: a card for a channel, a signed `handoff.test` event for an endpoint."""
    if isinstance(target, Channel):
        card = Card(
            title="Test from Handoff: this channel is connected",
            text=f"{person_name(actor)} pressed “Send a test”. Alerts you chose will arrive here.",
            link=("Open Handoff", absolute(target.get_absolute_url())),
        )
        return card.title, render(card, target.kind)
    payload = envelope(TEST_EVENT, timezone.now(), {"endpoint": target.name, "sent_by": person_name(actor)})
    return "Test event", json.dumps(payload, separators=(",", ":"), sort_keys=True)


def target_test(*, target: Channel | Endpoint, actor) -> Delivery:
    """Queue a test message to `target` and have it sent at once; its result shows on the page."""
    summary, body = _test_message(target, actor)
    with transaction.atomic():
        delivery = Delivery.objects.create(
            **{target.page: target},
            event_type=TEST_EVENT,
            message_id=f"msg_{uuid.uuid4().hex}",
            summary=summary,
            body=body,
        )
        _nudge()
    return delivery


def delivery_replay(*, delivery: Delivery) -> Delivery:
    """Send a delivery again, as a new delivery in the log with the same body and `webhook-id` (a
    receiver that already has it can tell), signed anew."""
    with transaction.atomic():
        again = Delivery.objects.create(
            endpoint=delivery.endpoint,
            channel=delivery.channel,
            event_type=delivery.event_type,
            message_id=delivery.message_id,
            summary=delivery.summary,
            body=delivery.body,
            replay_of=delivery,
        )
        _nudge()
    return again
