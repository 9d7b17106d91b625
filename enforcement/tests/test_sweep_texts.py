"""What the sweep writes is composed in the database; it says exactly what the Python rules say: the
timeline events' notes and data, the breach notices' titles, bodies, links and deliveries, in each
reader's time zone."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from common.localtime import moment_text
from conftest import LeadFactory, UserFactory, advance
from enforcement.escalation import escalations_run
from enforcement.notices import breach_notify
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Lead, LeadEvent
from notifications.models import Notification, UserPreferences, time_zone_names
from notifications.tests.delivery import prefer
from people.names import person_name
from people.roles import Role
from sla.models import Deadline

HOUR = datetime.timedelta(hours=1)
S = Lead.Status
Mode = UserPreferences.EmailMode
Delivery = Notification.Delivery


def site_time(moment: datetime.datetime) -> str:
    """The sweep's notes: DATETIME_FORMAT in the site's zone, without the zone's name (SQL_MOMENT_FORMAT)."""
    return f"{timezone.localtime(moment):%-d %b %Y %H:%M}"


def time_in(moment: datetime.datetime, zone: str) -> str:
    return moment_text(moment, zoneinfo.ZoneInfo(zone))


def overdue(lead, kind, *, due_at) -> Deadline:
    Deadline.objects.filter(lead=lead, kind=kind).update(starts_at=due_at - 10 * HOUR, due_at=due_at)
    return Deadline.objects.get(lead=lead, kind=kind)


def expected_body(deadline: Deadline, zone: str, *, who: str, met: str = "") -> str:
    lead = deadline.lead
    what = deadline.get_kind_display().lower()
    return (
        f"The {what} deadline of lead {lead.full_name} ({lead.company or lead.email}, campaign "
        f"“{lead.campaign.name}”) was due {time_in(deadline.due_at, zone)} and was missed.\nOwner: {who}{met}"
    )


@pytest.mark.django_db
class TestWhatTheSweepWrites:
    def test_a_breach_event_says_what_python_would(self, marketer, rep, campaign):
        """Note, data (due time with its microseconds, the detection delay rounded as Python rounds: a
        half to the even second) and date of a first-contact breach; a claim missed in the queue names
        no owner."""
        now = datetime.datetime(2026, 7, 1, 9, 30, 12, 345678, tzinfo=datetime.UTC)
        claimed = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
        queued = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None)
        contact = overdue(claimed, Deadline.Kind.FIRST_CONTACT, due_at=now - datetime.timedelta(seconds=2.5))
        claim = overdue(queued, Deadline.Kind.CLAIM, due_at=now - datetime.timedelta(seconds=3.5))

        assert sweep_deadlines(now=now) == 2

        event = LeadEvent.objects.get(lead=claimed, kind=LeadEvent.Kind.BREACH)
        assert event.note == (
            f"First contact deadline missed (owner: {person_name(rep)}); it was due {site_time(contact.due_at)}."
        )
        assert event.data == {
            "deadline": contact.pk,
            "kind": "first_contact",
            "owner": rep.pk,
            "due_at": contact.due_at.isoformat(),
            "detected_after_seconds": 2,
        }
        assert "." in event.data["due_at"]  # the microseconds are there, as isoformat writes them
        assert (event.actor, event.from_status, event.to_status, event.created_at) == (None, "", "", now)
        queue_event = LeadEvent.objects.get(lead=queued, kind=LeadEvent.Kind.BREACH)
        assert queue_event.note == f"Claim deadline missed; it was due {site_time(claim.due_at)}."
        assert queue_event.data == {
            "deadline": claim.pk,
            "kind": "claim",
            "owner": None,
            "due_at": claim.due_at.isoformat(),
            "detected_after_seconds": 4,
        }

    def test_a_warning_event_says_what_python_would(self, marketer, rep, campaign):
        """A warning's note and data, on a due time without microseconds."""
        lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
        due_at = datetime.datetime(2030, 1, 15, 12, 0, tzinfo=datetime.UTC)
        Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).update(
            due_at=due_at, warn_at=due_at - HOUR
        )
        deadline = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)

        sweep_deadlines(now=due_at - HOUR / 2)

        event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.WARNING)
        assert event.note == f"First contact deadline is close (owner: {person_name(rep)}): due 15 Jan 2030 13:00."
        assert event.data == {
            "deadline": deadline.pk,
            "kind": "first_contact",
            "owner": rep.pk,
            "due_at": "2030-01-15T12:00:00+00:00",
        }

    def test_each_recipient_reads_the_notice_in_their_zone_and_gets_it_their_way(self, marketer, rep, campaign):
        """The rep in Tokyo, a manager with no preferences (Berlin, single emails), one on the daily
        digest, one who turned breach emails off, one without an address, a manager known only by
        username, and one whose stored zone this machine no longer knows (the site's zone): each gets
        the notice's exact text with its link, delivered as their preferences say; an inactive
        manager gets nothing."""
        prefer(rep, time_zone="Asia/Tokyo")
        managers = {
            "plain": UserFactory(username="plain", role=Role.MANAGERS),
            "digest": UserFactory(username="digest", role=Role.MANAGERS),
            "quiet": UserFactory(username="quiet", role=Role.MANAGERS),
            "no_address": UserFactory(username="no_address", role=Role.MANAGERS, email=""),
            "nameless": UserFactory(username="nameless", role=Role.MANAGERS, first_name="", last_name=""),
            "lost_zone": UserFactory(username="lost_zone", role=Role.MANAGERS),
        }
        retired = UserFactory(username="retired", role=Role.MANAGERS, is_active=False)
        prefer(managers["digest"], email_mode=Mode.DAILY, time_zone="America/New_York")
        prefer(managers["quiet"], email_breaches=False)
        UserPreferences.objects.bulk_create([UserPreferences(user=managers["lost_zone"], time_zone="Nowhere/Special")])
        assert "Nowhere/Special" not in time_zone_names()
        lead = advance(LeadFactory(campaign=campaign, company=""), S.CLAIMED, marketer=marketer, rep=rep)
        deadline = overdue(
            lead, Deadline.Kind.FIRST_CONTACT, due_at=datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.UTC)
        )

        sweep_deadlines()

        notices = {n.user.username: n for n in Notification.objects.filter(lead=lead).select_related("user")}
        assert set(notices) == {"rep", *managers}
        assert retired.username not in notices
        zones = {"rep": "Asia/Tokyo", "digest": "America/New_York"}
        for username, notice in notices.items():
            zone = zones.get(username, "Europe/Berlin")
            assert (notice.kind, notice.key, notice.url) == ("breach", f"breach:{deadline.pk}", lead.get_absolute_url())
            assert notice.title == f"SLA breach: first contact of {lead.full_name}"
            assert notice.body == expected_body(deadline, zone, who=person_name(rep)), username
            assert lead.email in notice.body
        assert "15 Jan 2026 21:00 JST" in notices["rep"].body
        deliveries = {username: notice.delivery for username, notice in notices.items()}
        assert deliveries == {
            "rep": Delivery.EMAIL,
            "plain": Delivery.EMAIL,
            "digest": Delivery.DIGEST,
            "quiet": Delivery.IN_APP,
            "no_address": Delivery.IN_APP,
            "nameless": Delivery.EMAIL,
            "lost_zone": Delivery.EMAIL,
        }
        for user in managers.values():
            prefs = UserPreferences.objects.filter(user=user).first() or UserPreferences(user=user)
            prefs.user = user
            assert prefs.delivery_for(Notification.Kind.BREACH) == deliveries[user.username]

    def test_a_notice_written_after_a_late_claim_says_it_was_met_late(self, marketer, rep, manager, campaign):
        """A claim missed in the queue names nobody as owner; a notice written after the lead was
        claimed late (the safety net for a breach whose notices were never written) says so, in the
        reader's zone; the escalation step that tells the manager finds them told."""
        lead = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None)
        deadline = overdue(lead, Deadline.Kind.CLAIM, due_at=timezone.now() - HOUR)
        sweep_deadlines()
        queued = Notification.objects.get(lead=lead, user=manager)
        assert queued.body == expected_body(deadline, "Europe/Berlin", who="nobody (in the queue)")
        # The notices are lost (say, written by an older release that crashed before them).
        Notification.objects.filter(lead=lead).delete()
        Deadline.objects.filter(pk=deadline.pk).update(breach_notified_at=None)
        services.lead_claim(lead=lead, rep=rep)
        deadline.refresh_from_db()

        assert breach_notify(deadline_id=deadline.pk) is True

        notice = Notification.objects.get(lead=lead, user=manager)
        met = f"\nIt was met late, {time_in(deadline.met_at, 'Europe/Berlin')}."
        assert notice.body == expected_body(deadline, "Europe/Berlin", who=person_name(rep), met=met)
        assert escalations_run(deadline_ids=[deadline.pk]) >= 1
        assert Notification.objects.filter(lead=lead, user=manager).count() == 1
