"""Fifty hand-offs at once from ten threads, each on its own connection: nobody over capacity, the
weights held."""

import threading
from collections import Counter

import pytest
from django.db import connection

from leads import services
from leads.models import Lead, RepProfile
from leads.tests.test_assignment import mql, reps, team_of


@pytest.mark.django_db(transaction=True)
def test_concurrent_hand_offs_keep_capacity_and_share_by_weight(marketer, campaign):
    light, heavy, full_soon = reps(3)
    team_of(light, heavy, full_soon, capacity=40)
    RepProfile.objects.filter(user=heavy).update(weight=2)
    RepProfile.objects.filter(user=full_soon).update(capacity=3)
    leads = [mql(campaign, marketer) for _ in range(50)]
    start = threading.Barrier(10)
    errors = []

    def hand_off(batch):
        try:
            start.wait()
            for lead in batch:
                services.lead_hand_off(lead=lead, actor=marketer)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_off, args=(leads[i::10],)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    owners = Counter(Lead.objects.filter(status=Lead.Status.CLAIMED).values_list("owner__username", flat=True))
    assert owners[full_soon.username] == 3  # its capacity, never more
    # The other 47 shared 1:2 between weight 1 and weight 2, within one lead each way.
    assert owners[light.username] + owners[heavy.username] == 47
    assert abs(owners[heavy.username] - 2 * owners[light.username]) <= 3
