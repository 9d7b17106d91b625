"""Filling the business time of met deadlines walks the table once, batch after batch (keyset), so a
million deadlines cost a million rows read, not a scan from the start for every batch."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import LeadFactory, advance
from leads.models import Lead
from sla.clocks import deadlines_business_seconds_fill
from sla.models import Deadline

pytestmark = pytest.mark.django_db


def test_every_met_deadline_is_filled_and_each_batch_starts_where_the_last_ended(marketer, rep, campaign):
    for _ in range(5):
        advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    met = Deadline.objects.filter(met_at__isnull=False)
    expected = dict(met.values_list("pk", "business_seconds"))
    assert len(expected) == 5 and None not in expected.values()
    met.update(business_seconds=None)

    with CaptureQueriesContext(connection) as queries:
        assert deadlines_business_seconds_fill(batch_size=2) == 5

    assert dict(met.values_list("pk", "business_seconds")) == expected
    batches = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "business_seconds" in q["sql"]]
    assert len(batches) == 3  # 2 + 2 + 1
    assert all('"handoff_deadline"."id" >' in sql for sql in batches)
