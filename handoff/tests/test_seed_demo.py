"""The demo data: every page has something to show, and running the seed again changes nothing."""

import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from leads.models import Deal, Lead, LeadEvent, MonthlyTarget

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
