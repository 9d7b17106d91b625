"""seed_scale writes the read models as it fills: what it wrote equals a rebuild from the timeline and
the deadlines, and so does every figure of the dashboard read from them."""

import datetime
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from leads.models import (
    CampaignMilestone,
    CampaignMonthMqls,
    CampaignRevenue,
    CampaignTally,
    EventCount,
    EventMonthCount,
    EventWeekCount,
    Lead,
    LeadTally,
)
from reporting.dashboard import Filters, Period, sla_dashboard
from reporting.dashboard_tables import tables
from reporting.models import (
    AcceptanceDay,
    DeadlineOutcome,
    DeadlineOutcomeMonth,
    DeadlineOutcomeWeek,
    EscalationDay,
    MetTimeDay,
    MetTimeMonth,
)
from reporting.rebuild import read_models_rebuild
from sla.models import Deadline

pytestmark = pytest.mark.django_db

READ_MODELS = {
    EventCount: ("day", "kind", "subgroup", "campaign_id", "user_id", "value", "amount"),
    EventMonthCount: ("month", "side", "kind", "subgroup", "campaign_id", "user_id", "value", "amount"),
    EventWeekCount: ("week", "side", "kind", "subgroup", "campaign_id", "user_id", "value", "amount"),
    LeadTally: ("campaign_id", "owner_id", "status", "leads"),
    CampaignTally: ("campaign_id", "status", "leads"),
    CampaignMilestone: ("campaign_id", "milestone", "leads"),
    CampaignMonthMqls: ("campaign_id", "day", "leads"),
    CampaignRevenue: ("campaign_id", "won_deals", "won_revenue"),
    DeadlineOutcome: ("hour", "kind", "campaign_id", "owner_id", "on_time", "late", "recorded", "by_escalation"),
    AcceptanceDay: ("day", "campaign_id", "handed_off", "closed", "claimed", "returned", "by_escalation"),
    EscalationDay: ("day", "kind", "owner_id", "campaign_id", "escalations"),
    MetTimeDay: ("day", "kind", "bucket", "deadlines"),
    MetTimeMonth: ("month", "kind", "bucket", "deadlines"),
    DeadlineOutcomeMonth: ("month", "per", "kind", "campaign_id", "owner_id", "on_time", "late", "recorded"),
    DeadlineOutcomeWeek: ("week", "per", "kind", "campaign_id", "owner_id", "on_time", "late", "recorded"),
}


def _read_models() -> dict:
    return {model: set(model.objects.values_list(*fields)) for model, fields in READ_MODELS.items()}


def test_the_filled_read_models_equal_a_rebuild():
    call_command("seed_scale", leads=400, stdout=StringIO())
    # The business times are set after the fill (triggers on), as the README's fill does.
    call_command("fill_business_seconds", stdout=StringIO())
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


def _dashboard(now):
    """The dashboard for the year the fill spans (the trends are cached: read afresh)."""
    today = timezone.localdate(now)
    cache.clear()
    return sla_dashboard(filters=Filters(period=Period("custom", today - datetime.timedelta(days=366), today)), now=now)


def _figures(d) -> list:
    """Every number of the dashboard: the tiles' clocks and acceptance, and every cell of every table (per
    rep, team, campaign and channel, the funnel, the trends)."""
    tiles = [vars(clock) for clock in (*d.sales.values(), *d.marketing.values())] + [vars(d.acceptance), d.mqls]
    built = tables(d, lambda *args, **kwargs: "")
    return [tiles, {name: [[cell.value for cell in row] for row in table.rows] for name, table in built.items()}]


def test_every_deadline_carries_its_campaign_and_the_dashboard_equals_its_figures_after_a_rebuild():
    """Issue 19, point 6: the fill writes what the read models need (each deadline's campaign, a claim
    met in time its rep) and fills `DeadlineOutcome` too, so the dashboard on a seed_scale database
    shows what it shows after `rebuild_counts`: deadline figures per campaign and per rep included."""
    call_command("seed_scale", leads=600, stdout=StringIO())
    call_command("fill_business_seconds", stdout=StringIO())
    assert not Deadline.objects.filter(campaign__isnull=True).exists()
    on_time = Deadline.objects.filter(kind=Deadline.Kind.CLAIM, met_at__lte=F("due_at"))
    assert on_time.exists() and not on_time.filter(owner__isnull=True).exists()
    now = timezone.now()
    d = _dashboard(now)
    assert d.claims.on_time and d.claims.late and d.acceptance.handed_off
    assert any(rep.claims.on_time for rep in d.reps if rep.user is not None), "claims on time per rep"
    assert all(c.acceptance.handed_off for c in d.campaigns if c.handed_off), "acceptance per campaign"
    filled = _figures(d)

    read_models_rebuild()

    assert _figures(_dashboard(now)) == filled


def test_the_fill_looks_like_a_company():
    """Issue 25: reps with realistic capacity and shifts, clocks of every state on both sides (late,
    breached, overdue now, cancelled, paused), durations that vary, escalations, merges, notifications
    and digests, and more leads at the end of the year than at its start."""
    from django.db.models import Count, Q

    from leads.models import RepProfile
    from notifications.models import Notification
    from routing.models import WorkingHours
    from sla.models import Escalation

    call_command("seed_scale", leads=3000, stdout=StringIO())
    now = timezone.now()
    profiles = RepProfile.objects.all()
    assert profiles.count() >= 20 and {p.capacity for p in profiles} <= set(range(25, 61))
    assert WorkingHours.objects.values("rep").distinct().count() == profiles.count()
    open_per_rep = Lead.objects.filter(status__in=Lead.WORKED_BY_SALES).values("owner").annotate(n=Count("id"))
    assert max(row["n"] for row in open_per_rep) <= 60 * 1.5  # dealt by capacity, not thousands each

    running = Q(met_at__isnull=True, cancelled_at__isnull=True, paused_at__isnull=True)
    for kind in (Deadline.Kind.CLAIM, Deadline.Kind.FIRST_CONTACT, Deadline.Kind.FOLLOW_UP):
        clocks = Deadline.objects.filter(kind=kind)
        assert clocks.filter(met_at__gt=F("due_at")).exists(), f"{kind}: some met late"
        assert clocks.filter(met_at__lte=F("due_at")).exists(), f"{kind}: some met on time"
        assert clocks.filter(running, due_at__lt=now, breached_at__isnull=False).exists(), f"{kind}: overdue now"
        assert clocks.filter(running, due_at__gt=now).exists(), f"{kind}: running, not yet due"
    first_contacts = Deadline.objects.filter(kind=Deadline.Kind.FIRST_CONTACT)
    assert first_contacts.filter(cancelled_at__isnull=False).exists() and first_contacts.filter(paused_at__isnull=False)
    claim_minutes = {
        round((d.met_at - d.starts_at).total_seconds() / 60)
        for d in Deadline.objects.filter(kind=Deadline.Kind.CLAIM, met_at__isnull=False)[:200]
    }
    assert len(claim_minutes) > 50, "claims take different times"
    assert Escalation.objects.exists() and Lead.objects.filter(status=Lead.Status.MERGED).exists()
    assert Notification.objects.filter(delivery=Notification.Delivery.DIGEST, emailed_at__isnull=False).exists()
    assert Notification.objects.filter(kind=Notification.Kind.BREACH).exists()
    first_quarter = Lead.objects.filter(
        created_at__range=(now - datetime.timedelta(days=330), now - datetime.timedelta(days=240))
    )
    last_quarter = Lead.objects.filter(
        created_at__range=(now - datetime.timedelta(days=104), now - datetime.timedelta(days=14))
    )
    assert last_quarter.count() > 1.5 * first_quarter.count(), "growth over the year"
