"""The demo data: every page has something to show, and running the seed again changes nothing."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from enforcement.health import breach_detection_delay
from leads.models import Deal, Lead, LeadEvent, MonthlyTarget
from sla.models import Deadline, DepartmentHead

pytestmark = pytest.mark.django_db


def counts():
    return (Campaign.objects.count(), Lead.objects.count(), LeadEvent.objects.count(), Deal.objects.count())


def test_seed_demo_covers_every_state_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")

    assert counts() == first
    statuses = set(Lead.objects.values_list("status", flat=True))
    expected = {s for s in Lead.Status.values if s not in (Lead.Status.MERGED, Lead.Status.ON_HOLD)}
    assert expected <= statuses
    assert Campaign.objects.values("channel").distinct().count() >= 4
    assert Deal.objects.filter(stage=Deal.Stage.WON).exists()
    assert MonthlyTarget.objects.filter(rep__isnull=True).exists()
    assert "handoff-demo" in capsys.readouterr().out
    heads = dict(DepartmentHead.objects.values_list("department", "user__username"))
    assert heads == {"sales": "manager", "marketing": "manager"}, "the demo manager can draft and sign alone"


def test_every_figure_of_the_demo_agrees_with_its_own_timeline():
    """The seed tells each lead's story through the services, at the time it happened: the score shown
    is the last one the timeline recorded, the status and its time are the last move's, the queue's
    "handed off" and each clock's start are the moments the timeline gives, and the late and warned
    leads are late and warned by the SLA's own arithmetic, not by edited deadlines."""
    call_command("seed_demo")
    now = timezone.now()

    for lead in Lead.objects.all():
        events = list(lead.events.order_by("created_at", "id"))
        assert events[0].kind == LeadEvent.Kind.CAPTURED, lead
        assert events[0].created_at == lead.created_at, lead
        scored = [event for event in events if event.kind == LeadEvent.Kind.SCORED]
        assert scored and scored[-1].data["to"] == lead.score, lead
        last_move = [event for event in events if event.to_status][-1]
        assert (last_move.to_status, last_move.created_at) == (lead.status, lead.status_changed_at), lead
    for deadline in Deadline.objects.select_related("handoff"):
        started_by = LeadEvent.Kind.HANDED_OFF if deadline.kind == Deadline.Kind.CLAIM else LeadEvent.Kind.CLAIMED
        if deadline.kind == Deadline.Kind.CLAIM:
            assert deadline.starts_at == deadline.handoff.handed_off_at, deadline
        assert deadline.lead.events.filter(kind=started_by, created_at=deadline.starts_at).exists(), deadline
    late = Deadline.objects.get(lead__email="margaret@hamilton.example", kind=Deadline.Kind.CLAIM)
    warned = Deadline.objects.get(lead__email="katherine@johnson.example", kind=Deadline.Kind.CLAIM)
    late_contact = Deadline.objects.get(lead__email="dennis@ritchie.example", kind=Deadline.Kind.FIRST_CONTACT)
    assert late.due_at < now and late_contact.due_at < now
    assert warned.warn_at <= now < warned.due_at


def test_the_demos_late_leads_do_not_make_breach_detection_look_slow(client):
    """The late leads' stories start a week ago; their warnings and breaches are recorded as a running
    worker would have, a second after they fell due, so a manager's first look at the dashboard does
    not say in red that breach detection took days."""
    call_command("seed_demo")

    breached = Deadline.objects.filter(breached_at__isnull=False)
    assert {(d.lead.email, d.kind) for d in breached} == {
        ("margaret@hamilton.example", Deadline.Kind.CLAIM),
        ("dennis@ritchie.example", Deadline.Kind.FIRST_CONTACT),
    }
    for deadline in breached:
        assert deadline.breached_at - deadline.due_at == datetime.timedelta(seconds=1), deadline
        assert deadline.warned_at is not None and deadline.warned_at < deadline.due_at, deadline
    assert breach_detection_delay(now=timezone.now()).within_target
    client.force_login(get_user_model().objects.get(username="manager"))
    html = client.get(reverse("dashboard")).content.decode()
    assert "after the due time" not in html
