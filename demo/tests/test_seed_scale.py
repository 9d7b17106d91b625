"""seed_scale writes the read models as it fills: what it wrote equals a rebuild from the timeline."""

from io import StringIO

import pytest
from django.core.management import call_command

from leads.models import CampaignMilestone, CampaignMonthMqls, CampaignRevenue, EventCount, Lead, LeadTally
from reporting.rebuild import read_models_rebuild

pytestmark = pytest.mark.django_db

READ_MODELS = {
    EventCount: ("day", "kind", "subgroup", "campaign_id", "user_id", "value", "amount"),
    LeadTally: ("campaign_id", "owner_id", "status", "leads"),
    CampaignMilestone: ("campaign_id", "milestone", "leads"),
    CampaignMonthMqls: ("campaign_id", "day", "leads"),
    CampaignRevenue: ("campaign_id", "won_deals", "won_revenue"),
}


def _read_models() -> dict:
    return {model: set(model.objects.values_list(*fields)) for model, fields in READ_MODELS.items()}


def test_the_filled_read_models_equal_a_rebuild():
    call_command("seed_scale", leads=400, stdout=StringIO())
    filled = _read_models()
    assert Lead.objects.count() == 400
    assert all(filled.values()), "a read model was left empty"

    read_models_rebuild()

    assert _read_models() == filled


def test_the_leads_sales_works_carry_their_latest_activitys_next_step():
    """What My leads groups by is filled with the leads: each lead sales works carries the time and next
    step of its latest activity, as `activities.activity_log` would have left them."""
    call_command("seed_scale", leads=400, stdout=StringIO())
    worked = Lead.objects.filter(status__in=Lead.WORKED_BY_SALES)
    assert worked.filter(next_step_at__isnull=False).exists()

    for lead in worked:
        latest = lead.activities.order_by("-created_at", "-id").first()
        expected = (latest.created_at, latest.next_step_at) if latest else (None, None)
        assert (lead.last_activity_at, lead.next_step_at) == expected, lead.pk
