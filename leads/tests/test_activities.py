"""Working a lead: activities, the first contact they make, hold and resume; through the service and the pages."""

import datetime
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from conftest import LeadFactory, advance
from leads import services
from leads.activities import activity_log
from leads.deals import deal_move
from leads.models import Activity, Deal, Lead, LeadEvent
from leads.transitions import TransitionError
from sla.models import Deadline

pytestmark = pytest.mark.django_db
S = Lead.Status


def lead_in(status, *, campaign, marketer, rep) -> Lead:
    return advance(LeadFactory(campaign=campaign), status, marketer=marketer, rep=rep)


def first_contact_deadline(lead) -> Deadline:
    return Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)


def kinds(lead) -> list[str]:
    return list(lead.events.order_by("created_at", "id").values_list("kind", flat=True))


def soon(hours=2) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


# ---- the first contact -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING])
def test_the_first_contact_activity_stops_the_first_contact_clock(kind, campaign, marketer, rep):
    """Given a claimed lead, when its rep logs a call, email or meeting, then the lead is contacted, the
    first-contact deadline is met at the moment of the contact, and the timeline shows the activity, then
    the first contact."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)

    activity = activity_log(lead=lead, rep=rep, kind=kind, outcome="Reached", note="Keen on a demo")

    lead.refresh_from_db()
    assert lead.status == S.CONTACTED
    deadline = first_contact_deadline(lead)
    contacted = lead.events.get(kind=LeadEvent.Kind.CONTACTED)
    assert deadline.met_at == contacted.created_at
    assert deadline.met_at >= activity.created_at
    assert kinds(lead)[-2:] == [LeadEvent.Kind.ACTIVITY, LeadEvent.Kind.CONTACTED]
    assert contacted.actor == rep


def test_only_the_first_contact_activity_moves_the_lead(campaign, marketer, rep):
    """Given a lead already contacted by a call, when the rep logs a second call, then no second first
    contact is recorded and the deadline keeps its met time."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, outcome="Voicemail")
    met_at = first_contact_deadline(lead).met_at

    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, outcome="Reached")

    assert lead.events.filter(kind=LeadEvent.Kind.CONTACTED).count() == 1
    assert lead.events.filter(kind=LeadEvent.Kind.ACTIVITY).count() == 2
    assert first_contact_deadline(lead).met_at == met_at


def test_a_note_never_stops_the_clock(campaign, marketer, rep):
    """Given a claimed lead, when the rep writes a note, then the note is on the timeline but the lead is
    still claimed and the first-contact clock still runs."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)

    activity_log(lead=lead, rep=rep, kind=Activity.Kind.NOTE, note="Looked them up: 40 people, Berlin")

    lead.refresh_from_db()
    assert lead.status == S.CLAIMED
    assert first_contact_deadline(lead).is_running
    assert kinds(lead)[-1] == LeadEvent.Kind.ACTIVITY


def test_the_activity_event_carries_kind_outcome_note_and_next_step(campaign, marketer, rep):
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)
    next_step = soon(hours=30)

    activity = activity_log(
        lead=lead,
        rep=rep,
        kind=Activity.Kind.MEETING,
        outcome="Demo done",
        note="Wants pricing",
        next_step_at=next_step,
    )

    event = lead.events.get(kind=LeadEvent.Kind.ACTIVITY)
    assert event.actor == rep
    assert event.data == {
        "activity": activity.pk,
        "kind": "meeting",
        "outcome": "Demo done",
        "next_step_at": next_step.isoformat(),
    }
    assert event.note == "Meeting: Demo done\nWants pricing"
    assert Activity.objects.get().next_step_at == next_step


@pytest.mark.django_db(transaction=True)
def test_two_reps_racing_first_contacts_record_one_first_contact(campaign, marketer, rep, manager):
    """Given a claimed lead, when its rep and a manager log a call at the same moment, then both calls are
    kept but exactly one first contact is recorded (the lead row lock serialises them)."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    barrier, errors = threading.Barrier(2), []

    def call(user):
        try:
            barrier.wait()
            activity_log(lead=lead, rep=user, kind=Activity.Kind.CALL, outcome="Reached")
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(user,)) for user in (rep, manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Activity.objects.filter(lead=lead).count() == 2
    assert lead.events.filter(kind=LeadEvent.Kind.CONTACTED).count() == 1


# ---- who may log, and when ---------------------------------------------------------------------------------


def test_another_rep_cannot_log_on_someone_elses_lead(campaign, marketer, rep, other_rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)

    with pytest.raises(TransitionError, match="owns this lead"):
        activity_log(lead=lead, rep=other_rep, kind=Activity.Kind.CALL)

    assert not Activity.objects.exists()
    assert lead.events.filter(kind=LeadEvent.Kind.ACTIVITY).count() == 0
    lead.refresh_from_db()
    assert lead.status == S.CLAIMED


def test_a_manager_may_log_on_a_reps_lead(campaign, marketer, rep, manager):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)

    activity_log(lead=lead, rep=manager, kind=Activity.Kind.CALL, outcome="Covered for the rep")

    lead.refresh_from_db()
    assert lead.status == S.CONTACTED
    assert Activity.objects.get().rep == manager


@pytest.mark.parametrize("status", [S.HANDED_OFF, S.CONVERTED, S.RETURNED])
def test_activities_are_logged_only_while_sales_works_the_lead_or_its_deal_is_open(status, campaign, marketer, rep):
    lead = lead_in(status, campaign=campaign, marketer=marketer, rep=rep)
    if lead.owner is None:
        lead.owner = rep  # nobody owns a waiting lead; make sure the refusal is about the status
        lead.save(update_fields=["owner"])
    if status == S.CONVERTED:
        # While its deal is open a converted lead still takes activities (test_deal_board); once won, not.
        deal_move(deal=lead.deal, actor=rep, stage=Deal.Stage.WON)

    with pytest.raises(TransitionError, match="while sales works it"):
        activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL)
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"kind": "fax"}, "Choose a call"),
        ({"kind": "note", "note": "   "}, "A note needs some text"),
        ({"kind": "call", "next_step_at": "past"}, "in the past"),
        ({"kind": "call", "outcome": "x" * 201}, "200 characters"),
    ],
)
def test_bad_activity_input_is_refused_and_nothing_is_written(kwargs, message, campaign, marketer, rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    if kwargs.get("next_step_at") == "past":
        kwargs["next_step_at"] = timezone.now() - datetime.timedelta(hours=1)

    with pytest.raises(TransitionError, match=message):
        activity_log(lead=lead, rep=rep, **kwargs)

    assert not Activity.objects.exists()
    lead.refresh_from_db()
    assert lead.status == S.CLAIMED


def test_a_next_step_in_the_current_minute_is_not_in_the_past(campaign, marketer, rep):
    """The form works to the minute: "now", typed in, is accepted however many seconds have gone by."""
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)

    activity_log(
        lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=timezone.now().replace(second=0, microsecond=0)
    )

    assert Activity.objects.count() == 1


def test_a_naive_next_step_is_a_programming_error(campaign, marketer, rep):
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)

    with pytest.raises(ValueError, match="timezone-aware"):
        activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, next_step_at=datetime.datetime(2030, 1, 1, 9, 0))
    assert not Activity.objects.exists()


def test_a_lead_held_before_its_first_contact_is_resumed_before_the_contact_is_logged(campaign, marketer, rep):
    """Given a lead put on hold before anyone reached it, a call is refused with what to do (resume
    first); after resuming, the call stops the clock as usual."""
    lead = lead_in(S.ON_HOLD, campaign=campaign, marketer=marketer, rep=rep)

    with pytest.raises(TransitionError, match="resume it"):
        activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.NOTE, note="Customer asked us to wait")

    services.lead_resume(lead=lead, actor=rep)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.CALL, outcome="Reached")
    lead.refresh_from_db()
    assert lead.status == S.CONTACTED
    assert first_contact_deadline(lead).met_at is not None


def test_a_contacted_lead_on_hold_takes_any_activity_and_stays_on_hold(campaign, marketer, rep):
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)
    services.lead_hold(lead=lead, actor=rep, reason="Budget decision in March")

    activity_log(lead=lead, rep=rep, kind=Activity.Kind.EMAIL, outcome="Sent a reminder")

    lead.refresh_from_db()
    assert lead.status == S.ON_HOLD
    assert lead.hold_reason == "Budget decision in March"


# ---- hold and resume ---------------------------------------------------------------------------------------


def test_hold_requires_a_reason(campaign, marketer, rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)

    with pytest.raises(TransitionError, match="Say why"):
        services.lead_hold(lead=lead, actor=rep, reason="  ")
    lead.refresh_from_db()
    assert lead.status == S.CLAIMED


@pytest.mark.parametrize("status", [S.CLAIMED, S.CONTACTED])
def test_resume_returns_the_lead_to_its_previous_status(status, client, campaign, marketer, rep):
    """Given a lead on hold from claimed or contacted, when the rep holds and then resumes it on the lead
    page, then it is back where it was, the reason cleared, with a hold and a resume on the timeline."""
    lead = lead_in(status, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)

    response = client.post(reverse("leads:hold", args=[lead.pk]), {"reason": "Waiting on the customer"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.hold_reason) == (S.ON_HOLD, "Waiting on the customer")
    assert "Waiting on the customer" in client.get(lead.get_absolute_url()).content.decode()

    assert client.post(reverse("leads:resume", args=[lead.pk])).status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.hold_reason) == (status, "")
    # The claimed lead's first-contact clock was running, so the SLA clock's pause and resume are noted too.
    clock = [LeadEvent.Kind.CLOCK_PAUSED, LeadEvent.Kind.CLOCK_RESUMED]
    moves = [kind for kind in kinds(lead) if kind not in clock]
    assert moves[-2:] == [LeadEvent.Kind.ON_HOLD, LeadEvent.Kind.RESUMED]
    assert [kind for kind in kinds(lead) if kind in clock] == (clock if status == S.CLAIMED else [])
    resumed = lead.events.get(kind=LeadEvent.Kind.RESUMED)
    assert (resumed.from_status, resumed.to_status, resumed.actor) == (S.ON_HOLD, status, rep)


def test_hold_without_a_reason_on_the_page_is_a_form_error(client, campaign, marketer, rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)

    response = client.post(reverse("leads:hold", args=[lead.pk]), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    lead.refresh_from_db()
    assert lead.status == S.CLAIMED


def test_resuming_a_lead_that_is_not_on_hold_is_a_message(client, campaign, marketer, rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)

    response = client.post(reverse("leads:resume", args=[lead.pk]), follow=True)

    assert response.status_code == 200
    assert "Only a lead on hold can be resumed — this one is claimed" in response.content.decode()
    assert lead.events.filter(kind=LeadEvent.Kind.RESUMED).count() == 0


# ---- the pages ---------------------------------------------------------------------------------------------


def test_the_rep_logs_a_call_on_the_lead_page(client, campaign, marketer, rep):
    """Given the rep's claimed lead, the lead page offers the activity form; posting a call with a next step
    in the rep's time zone records it and says the clock stopped."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert reverse("leads:log_activity", args=[lead.pk]) in page
    next_step = timezone.localtime(soon(hours=26)).replace(second=0, microsecond=0)

    response = client.post(
        reverse("leads:log_activity", args=[lead.pk]),
        {"kind": "call", "outcome": "Reached", "note": "Demo on Friday", "next_step_at": f"{next_step:%Y-%m-%dT%H:%M}"},
        follow=True,
    )

    assert "the clock has stopped" in response.content.decode()
    activity = Activity.objects.get()
    assert (activity.kind, activity.rep, activity.next_step_at) == ("call", rep, next_step)
    assert "Demo on Friday" in response.content.decode()


@pytest.mark.parametrize(
    "data,field",
    [
        ({"kind": "call", "next_step_at": "next tuesday"}, "next_step_at"),
        ({"kind": "call", "next_step_at": "2026-02-30T10:00"}, "next_step_at"),
        ({"kind": "fax"}, "kind"),
        ({"kind": "call", "outcome": "x" * 500}, "outcome"),
    ],
)
def test_bad_activity_input_on_the_page_is_a_form_error_not_a_500(data, field, client, campaign, marketer, rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)

    response = client.post(reverse("leads:log_activity", args=[lead.pk]), {"note": "Kept for the retry", **data})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "Kept for the retry" in response.content.decode()
    assert not Activity.objects.exists()


def test_a_refusal_from_the_service_comes_back_on_the_form_with_the_input(client, campaign, marketer, rep):
    lead = lead_in(S.CONTACTED, campaign=campaign, marketer=marketer, rep=rep)
    client.force_login(rep)
    yesterday = timezone.localtime() - datetime.timedelta(days=1)

    response = client.post(
        reverse("leads:log_activity", args=[lead.pk]),
        {"kind": "call", "note": "Typed with care", "next_step_at": f"{yesterday:%Y-%m-%dT%H:%M}"},
    )

    assert response.status_code == 200
    assert "in the past" in " ".join(response.context["form"].non_field_errors())
    assert "Typed with care" in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize("url_name", ["leads:log_activity", "leads:hold", "leads:resume"])
def test_a_rep_cannot_work_another_reps_lead_through_the_pages(url_name, client, campaign, marketer, rep, other_rep):
    """Posting straight to the URL of someone else's lead is refused (403) and writes nothing."""
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    events_before = lead.events.count()
    client.force_login(other_rep)

    response = client.post(
        reverse(url_name, args=[lead.pk]), {"kind": "call", "outcome": "Sneaky", "reason": "Mine now"}
    )

    assert response.status_code == 403
    assert not Activity.objects.exists()
    assert lead.events.count() == events_before
    lead.refresh_from_db()
    assert lead.status == S.CLAIMED


@pytest.mark.parametrize("url_name", ["leads:log_activity", "leads:hold", "leads:resume"])
def test_the_refusal_says_another_rep_owns_the_lead_not_another_department(
    url_name, client, campaign, marketer, rep, other_rep
):
    """A rep opening the working pages of a colleague's lead is told who owns it, not that the page
    belongs to another department; a marketer is told it is another department's page."""
    lead = lead_in(
        S.ON_HOLD if url_name == "leads:resume" else S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep
    )
    url = reverse(url_name, args=[lead.pk])
    client.force_login(other_rep)

    response = client.post(url) if url_name == "leads:resume" else client.get(url)

    assert response.status_code == 403
    page = response.content.decode()
    assert escape(f"{rep.get_full_name()} owns this lead: only they, or a manager, can work it.") in page
    assert "another department" not in page
    client.force_login(marketer)
    assert "another department" in client.get(reverse("leads:queue")).content.decode()


@pytest.mark.parametrize("url_name", ["leads:log_activity", "leads:hold", "leads:resume"])
def test_marketing_cannot_work_a_lead_and_anonymous_must_log_in(url_name, client, campaign, marketer, rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    url = reverse(url_name, args=[lead.pk])

    assert client.post(url, {"kind": "call"})["Location"].startswith(reverse("login"))
    client.force_login(marketer)
    assert client.post(url, {"kind": "call", "reason": "x"}).status_code == 403
    assert not Activity.objects.exists()


def test_the_lead_page_shows_activities_to_all_and_forms_only_to_the_owner(client, campaign, marketer, rep, other_rep):
    lead = lead_in(S.CLAIMED, campaign=campaign, marketer=marketer, rep=rep)
    activity_log(lead=lead, rep=rep, kind=Activity.Kind.NOTE, note="Prefers email over phone")
    log_url = reverse("leads:log_activity", args=[lead.pk])

    for viewer in (other_rep, marketer):
        client.force_login(viewer)
        page = client.get(lead.get_absolute_url()).content.decode()
        assert "Prefers email over phone" in page
        assert log_url not in page
        assert reverse("leads:hold", args=[lead.pk]) not in page

    client.force_login(rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert log_url in page
    assert reverse("leads:hold", args=[lead.pk]) in page
