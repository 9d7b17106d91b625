"""The outbox: written by the database in the transaction of the change, whoever makes it, and only
when an enabled endpoint or channel wants that event type."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conftest import LeadFactory, advance
from enforcement.sweep import sweep_deadlines
from integrations.models import EVENT_OF_TIMELINE_KIND, EventType, OutboxEvent
from integrations.relay import deliveries_send, outbox_fan_out
from integrations.tests.factories import ChannelFactory, EndpointFactory
from leads import deals
from leads.models import Lead, LeadEvent
from sla.models import Deadline
from sla.policies import policy_publish

pytestmark = pytest.mark.django_db
S = Lead.Status
HOUR = datetime.timedelta(hours=1)


def overdue_claims(campaign, marketer, count: int) -> list[Lead]:
    leads = [advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None) for _ in range(count)]
    now = timezone.now()
    Deadline.objects.filter(lead__in=leads).update(starts_at=now - 10 * HOUR, due_at=now - HOUR)
    return leads


def test_nothing_is_written_when_nobody_subscribes(marketer, rep, campaign):
    """Leads move and deadlines breach with no endpoint or channel: the outbox stays empty."""
    EndpointFactory(events=["deadline.breached"], enabled=False)
    advance(LeadFactory(campaign=campaign), S.CONTACTED, marketer=marketer, rep=rep)
    overdue_claims(campaign, marketer, 3)
    assert sweep_deadlines() == 3
    assert not OutboxEvent.objects.exists()


def test_a_subscribed_move_is_written_with_its_change_and_nothing_else(marketer, rep, campaign):
    """Subscribed to claims only: the claim writes one row pointing at its timeline event; the other
    moves of the lead write none."""
    EndpointFactory(events=[EventType.LEAD_CLAIMED])
    lead = advance(LeadFactory(campaign=campaign), S.CONTACTED, marketer=marketer, rep=rep)
    claim = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.CLAIMED)
    assert list(OutboxEvent.objects.values_list("event_type", "lead_event_id")) == [("lead.claimed", claim.pk)]


def test_a_change_rolled_back_leaves_no_outbox_row(marketer, rep, campaign):
    """The row is part of the change's transaction: seen inside it, gone with its rollback."""
    EndpointFactory(events=[EventType.LEAD_QUALIFIED])
    lead = LeadFactory(campaign=campaign)
    with pytest.raises(RuntimeError), transaction.atomic():
        advance(lead, S.MQL, marketer=marketer, rep=rep)
        assert OutboxEvent.objects.filter(event_type="lead.qualified").count() == 1
        raise RuntimeError("the request failed after the move")
    assert not OutboxEvent.objects.exists()


def test_the_sweeps_set_based_breaches_are_written_without_the_broker(
    marketer, campaign, fake, django_capture_on_commit_callbacks
):
    """The sweep records breaches in SQL; the trigger writes their outbox rows in the same statement's
    transaction, before any after-commit task (none is run here: no broker is involved), and the relay
    delivers them straight from the database."""
    endpoint = EndpointFactory(url=fake.url("/hook"), events=[EventType.DEADLINE_BREACHED])
    overdue_claims(campaign, marketer, 3)
    with django_capture_on_commit_callbacks(execute=False):
        assert sweep_deadlines() == 3
        assert OutboxEvent.objects.filter(event_type="deadline.breached").count() == 3
    assert outbox_fan_out() == 3
    assert deliveries_send() == 3
    assert len(fake.to("/hook")) == 3
    assert endpoint.deliveries.filter(status="delivered").count() == 3


def test_deal_outcomes_and_policies_have_their_own_types(marketer, rep, manager, campaign):
    """A won deal is deal.won (not a mere stage change); a published policy is policy.started."""
    ChannelFactory(person=rep, alerts=["breaches"])  # a channel's wants count too, but not for these
    EndpointFactory(events=[EventType.DEAL_WON, EventType.DEAL_STAGE_CHANGED, EventType.POLICY_STARTED])
    lead = advance(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=rep)
    deals.deal_move(deal=lead.deal, actor=rep, stage="proposal")
    deals.deal_move(deal=lead.deal, actor=rep, stage="won")
    policy = policy_publish(actor=manager, note="Faster claims", claim_hours_hot=Decimal("0.5"))
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "deal.stage_changed",
        "deal.won",
        "policy.started",
    ]
    assert OutboxEvent.objects.get(event_type="policy.started").policy_id == policy.pk


@pytest.mark.parametrize(("kind", "event_type"), EVENT_OF_TIMELINE_KIND.items())
def test_the_trigger_maps_each_timeline_kind_as_the_model_says(kind, event_type):
    with connection.cursor() as cursor:
        cursor.execute("SELECT integrations_event_type(%s, '{}'::jsonb)", [kind])
        assert cursor.fetchone()[0] == event_type


def test_kinds_nobody_can_subscribe_to_map_to_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT integrations_event_type('scored', '{}'::jsonb)")
        assert cursor.fetchone()[0] is None
