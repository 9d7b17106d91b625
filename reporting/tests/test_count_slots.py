"""Count slots (issue 25): concurrent writers of one campaign add to count rows of their own, so a post
never waits on another's count rows, and every read model still sums to what a rebuild counts."""

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from campaigns.capture import LeadData, lead_capture
from leads.models import EventCount, Lead, LeadEvent, LeadTally
from reporting.rebuild import read_models_rebuild
from reporting.verify import read_models_verify


def _new_leads(campaign) -> list:
    """The campaign's tally rows of new leads, one per slot written: (slot, leads)."""
    rows = LeadTally.objects.filter(campaign=campaign, owner=None, status=Lead.Status.NEW)
    return sorted(rows.values_list("slot", "leads"))


def _captured(campaign) -> int:
    return EventCount.objects.filter(campaign=campaign, kind=LeadEvent.Kind.CAPTURED).aggregate(n=Sum("value"))["n"]


@pytest.mark.django_db(transaction=True)
def test_a_capture_does_not_wait_for_another_capture_of_its_campaign_to_commit(campaign):
    captured, release, errors = threading.Event(), threading.Event(), []

    def first():
        """Captures a lead and holds its transaction open (its count rows locked) until released."""
        try:
            with transaction.atomic():
                lead_capture(campaign=campaign, data=LeadData("First", "first@example.com"))
                captured.set()
                release.wait(timeout=30)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            captured.set()
            connection.close()

    holder = threading.Thread(target=first)
    holder.start()
    try:
        assert captured.wait(timeout=30)
        # With one count row per key this capture would wait for the first to commit: the lock
        # timeout turns that wait into an error.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            lead_capture(campaign=campaign, data=LeadData("Second", "second@example.com"))
    finally:
        release.set()
        holder.join(timeout=30)
    assert errors == []

    assert _new_leads(campaign) == [(0, 1), (1, 1)]  # one row per concurrent writer
    assert _captured(campaign) == 2
    assert read_models_verify(campaigns=[campaign.pk]) == []
    read_models_rebuild()
    assert _new_leads(campaign) == [(0, 2)] and _captured(campaign) == 2


@pytest.mark.django_db
def test_a_writer_alone_adds_to_one_row_per_key(campaign):
    """Slots are taken lowest first, so rows only multiply with concurrent writers, never per connection."""
    for i in range(3):
        with transaction.atomic():
            lead_capture(campaign=campaign, data=LeadData(f"Lead {i}", f"lead-{i}@example.com"))
    assert _new_leads(campaign) == [(0, 3)]
    assert EventCount.objects.filter(campaign=campaign, kind=LeadEvent.Kind.CAPTURED).count() == 1
