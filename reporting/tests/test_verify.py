"""Read models can't drift silently: `verify_counts` (and its daily beat job) recounts part of each read
model with the rebuild's SQL, and a row that differs is reported, logged and told to the managers once a
day; `rebuild_counts` repairs it."""

import logging
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign
from leads.models import CampaignMilestone, EventCount, EventMonthCount, LeadTally
from notifications.models import Notification
from reporting.models import AcceptanceDay, DeadlineOutcome, DeadlineOutcomeMonth
from reporting.tasks import verify_read_models
from reporting.tests.test_outcomes import _history
from reporting.verify import SAMPLE_CAMPAIGNS, read_models_check

pytestmark = pytest.mark.django_db


def every_campaign() -> list[int]:
    return list(Campaign.objects.values_list("pk", flat=True))


def told(manager) -> int:
    return Notification.objects.filter(user=manager, kind=Notification.Kind.COUNTS).count()


def test_read_models_kept_by_their_triggers_show_no_drift(marketer, manager):
    _history(6, marketer)

    assert read_models_check(campaigns=every_campaign()) == []
    assert told(manager) == 0
    assert Campaign.objects.count() <= SAMPLE_CAMPAIGNS, "the beat job's sample then holds every campaign"
    assert verify_read_models() == 0
    assert told(manager) == 0


def test_a_drifted_row_of_each_read_model_is_found_logged_and_told_to_managers_once_a_day(marketer, manager, caplog):
    _history(7, marketer)
    today = timezone.localdate()
    EventCount.objects.filter(pk=EventCount.objects.filter(day=today).order_by("pk").values("pk")[:1]).update(
        value=F("value") + 1
    )
    this_month = EventMonthCount.objects.filter(month=today.replace(day=1))
    EventMonthCount.objects.filter(pk=this_month.order_by("pk").values("pk")[:1]).update(value=F("value") + 3)
    months = DeadlineOutcomeMonth.objects.filter(month=today.replace(day=1))
    DeadlineOutcomeMonth.objects.filter(pk=months.order_by("pk").values("pk")[:1]).update(late=F("late") + 1)
    recent = DeadlineOutcome.objects.filter(hour__gte=timezone.now() - timezone.timedelta(hours=5))
    DeadlineOutcome.objects.filter(pk=recent.order_by("pk").values("pk")[:1]).update(late=F("late") + 2)
    handed_off_today = AcceptanceDay.objects.filter(day=today).order_by("pk").values("pk")[:1]
    AcceptanceDay.objects.filter(pk=handed_off_today).update(claimed=F("claimed") + 1)
    LeadTally.objects.filter(pk=LeadTally.objects.order_by("pk").values("pk")[:1]).update(leads=F("leads") - 1)
    lost = CampaignMilestone.objects.order_by("pk").first()
    CampaignMilestone.objects.filter(pk=lost.pk).delete()

    with caplog.at_level(logging.ERROR, logger="reporting.verify"):
        drifts = read_models_check(campaigns=every_campaign())
    again = read_models_check(campaigns=every_campaign())

    assert {drift.table for drift in drifts} == {
        "handoff_eventcount",
        "handoff_deadlineoutcome",
        "leads_eventmonthcount",
        "leads_leadtally",
        "leads_campaignmilestone",
        "reporting_deadlineoutcomemonth",
        "reporting_acceptanceday",
    }
    assert len(drifts) == 7 and again == drifts
    (milestone,) = [drift for drift in drifts if drift.table == "leads_campaignmilestone"]
    assert (milestone.key, milestone.stored, milestone.rebuilt) == (
        (lost.campaign_id, lost.milestone),
        None,
        (lost.leads,),
    )
    assert told(manager) == 1, "once a day, however often the check runs"
    assert "run manage.py rebuild_counts" in caplog.text

    call_command("rebuild_counts", stdout=StringIO())

    assert read_models_check(campaigns=every_campaign()) == []


def test_the_command_fails_on_drift_and_passes_after_a_rebuild(marketer):
    _history(8, marketer)
    EventCount.objects.filter(pk=EventCount.objects.order_by("-day", "pk").values("pk")[:1]).update(
        value=F("value") + 1
    )

    with pytest.raises(CommandError, match="1 read model rows differ"):
        call_command("verify_counts", "--all-campaigns", stdout=StringIO())
    call_command("rebuild_counts", stdout=StringIO())
    out = StringIO()
    call_command("verify_counts", "--all-campaigns", stdout=out)
    assert "equal a rebuild" in out.getvalue()


def test_beat_runs_the_check_daily_on_the_general_queue():
    (entry,) = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == verify_read_models.name]
    assert entry["schedule"].hour == {4}
    assert verify_read_models.name not in settings.CELERY_TASK_ROUTES, "the general queue, not the SLA worker's"
