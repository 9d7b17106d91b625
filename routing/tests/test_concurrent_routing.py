"""Fifty hand-offs at once from ten threads, each on its own connection: nobody over capacity, the
weights held."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from conftest import CampaignFactory
from leads import services
from leads.models import Lead, RepProfile
from leads.tests.test_assignment import mql, reps, team_of
from routing.router import _lock, candidates_at


def hand_off_at_once(batches: list[list], marketer) -> list[Exception]:
    """Hand off each batch of leads from a thread of its own, all starting together, each on its own
    connection; returns what failed."""
    start = threading.Barrier(len(batches))
    errors = []

    def hand_off(batch):
        try:
            start.wait()
            for lead in batch:
                services.lead_hand_off(lead=lead, actor=marketer)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_off, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_hand_offs_keep_capacity_and_share_by_weight(marketer, campaign):
    light, heavy, full_soon = reps(3)
    team_of(light, heavy, full_soon, capacity=40)
    RepProfile.objects.filter(user=heavy).update(weight=2)
    RepProfile.objects.filter(user=full_soon).update(capacity=3)
    leads = [mql(campaign, marketer) for _ in range(50)]
    assert hand_off_at_once([leads[i::10] for i in range(10)], marketer) == []
    owners = Counter(Lead.objects.filter(status=Lead.Status.CLAIMED).values_list("owner__username", flat=True))
    assert owners[full_soon.username] == 3  # its capacity, never more
    # The other 47 shared 1:2 between weight 1 and weight 2, within one lead each way.
    assert owners[light.username] + owners[heavy.username] == 47
    assert abs(owners[heavy.username] - 2 * owners[light.username]) <= 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_hand_offs_of_many_campaigns_never_deadlock(marketer):
    """Each thread hands off its own campaign's leads, so nothing but routing makes them wait on each
    other: every rep's profile is taken by one hand-off while the others pass over it or wait."""
    pool = reps(4)
    team_of(*pool, capacity=100)
    campaigns = [CampaignFactory(owner=marketer) for _ in range(10)]
    batches = [[mql(campaign, marketer) for _ in range(8)] for campaign in campaigns]
    assert hand_off_at_once(batches, marketer) == []
    assert Lead.objects.filter(status=Lead.Status.CLAIMED).count() == 80
    owners = Counter(Lead.objects.filter(status=Lead.Status.CLAIMED).values_list("owner__username", flat=True))
    # Equal weights, equal shares within one lead: a rep another hand-off holds is passed over.
    assert all(abs(count - 20) <= 1 for count in owners.values()), owners


@pytest.mark.django_db(transaction=True)
def test_a_rep_found_full_after_the_lock_is_let_go_at_once(marketer, campaign):
    """Else two hand-offs could each hold a full rep the other waits for: a deadlock."""
    [rep] = reps(1)
    team_of(rep, capacity=1)
    services.lead_hand_off(lead=mql(campaign, marketer), actor=marketer)  # the rep is full now
    profile = RepProfile.objects.get(user=rep)
    candidate = candidates_at(timezone.now())[0]

    with transaction.atomic():
        assert _lock(candidate, skip_locked=True) is None
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute("SELECT id FROM leads_repprofile WHERE id = %s FOR UPDATE NOWAIT", [profile.pk])
                assert cursor.fetchone() == (profile.pk,)
        finally:
            other.close()
