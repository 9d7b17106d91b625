"""The notification centre, each user's preferences and time zone, and the emails and digests: every
notification reaches its user once, by the way they chose, and only they see it."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, UserFactory, advance
from enforcement.notices import breach_notify
from enforcement.sweep import sweep_deadlines
from leads.models import Lead
from leads.notices import notify_lead_returned
from notifications.models import Notification, UserPreferences
from notifications.services import (
    digests_send,
    notification_email_send,
    notify,
    unread_badge,
)
from notifications.tasks import send_digests
from notifications.tests.delivery import deliver, prefer
from people.roles import Role
from sla.models import Deadline

HOUR = datetime.timedelta(hours=1)
SITE = "https://handoff.example.com"
Kind = Notification.Kind
Mode = UserPreferences.EmailMode


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def note(user, title="Something happened", *, lead=None, kind=Kind.BREACH, **fields) -> Notification:
    """A notification straight in the table, for tests of the centre rather than of `notify`."""
    return Notification.objects.create(user=user, kind=kind, title=title, lead=lead, **fields)


def breached(lead) -> Deadline:
    """Move the lead's running clock an hour past due and let the sweep breach it."""
    now = timezone.now()
    deadline = Deadline.objects.filter(lead=lead, met_at__isnull=True).get()
    Deadline.objects.filter(pk=deadline.pk).update(starts_at=now - 10 * HOUR, due_at=now - HOUR)
    assert sweep_deadlines() == 1
    return deadline


@pytest.mark.django_db
class TestCentre:
    def test_the_navigation_shows_the_unread_count(self, client, rep):
        """Two unread and one read notification: the bar says 2; after all are read, no badge."""
        note(rep), note(rep), note(rep, read_at=timezone.now())
        client.force_login(rep)

        page = client.get(reverse("leads:mine")).content.decode()

        assert 'Notifications <span class="badge rounded-pill text-bg-danger">2</span>' in page
        client.post(reverse("notifications_read_all"))
        assert "text-bg-danger" not in client.get(reverse("leads:mine")).content.decode()

    def test_the_badge_costs_one_query_however_many_notifications(self, client, rep, django_assert_max_num_queries):
        """The unread badge is one capped query: a page costs the same with 3 or 150 unread notifications,
        reads the notification table once, and never counts the whole table."""
        client.force_login(rep)
        client.get(reverse("preferences"))  # creates the preferences row

        def queries_for_page() -> list[str]:
            with django_assert_max_num_queries(20) as captured:
                assert client.get(reverse("preferences")).status_code == 200
            return [query["sql"] for query in captured.captured_queries]

        for _ in range(3):
            note(rep)
        few = queries_for_page()
        for _ in range(147):
            note(rep)
        many = queries_for_page()

        assert len(few) == len(many)
        (badge_query,) = [sql for sql in many if "handoff_notification" in sql]
        assert "LIMIT 100" in badge_query and "COUNT(" not in badge_query.upper()
        assert unread_badge(rep) == "99+"

    def test_the_list_is_newest_first_and_paginated(self, client, rep):
        """30 notifications: page 1 shows the 25 newest, newest on top; page 2 the other 5."""
        start = timezone.now() - 30 * HOUR
        for n in range(30):
            note(rep, f"Notification {n:02d}", created_at=start + n * HOUR)
        client.force_login(rep)

        first = client.get(reverse("notifications"))
        second = client.get(reverse("notifications"), {"page": 2})

        titles = [n.title for n in first.context["notifications"]]
        assert titles[:2] == ["Notification 29", "Notification 28"]
        assert len(titles) == 25
        assert [n.title for n in second.context["notifications"]] == [f"Notification {n:02d}" for n in range(4, -1, -1)]

    def test_a_notification_links_to_its_lead(self, client, rep, campaign):
        lead = LeadFactory(campaign=campaign)
        note(rep, lead=lead, url=lead.get_absolute_url())
        client.force_login(rep)

        page = client.get(reverse("notifications")).content.decode()

        assert f'href="/leads/{lead.pk}/"' in page

    def test_mark_one_read(self, client, rep):
        """POST marks the one notification read, leaves the other unread and goes back to the list."""
        first, second = note(rep), note(rep)
        client.force_login(rep)

        response = client.post(reverse("notification_read", args=[first.pk]))

        assert response.status_code == 302
        assert response.url == reverse("notifications")
        first.refresh_from_db(), second.refresh_from_db()
        assert first.read_at is not None
        assert second.read_at is None

    def test_mark_read_goes_back_only_to_our_own_pages(self, client, rep):
        """`next` may send the user back to a page of ours, never to another site."""
        first, second = note(rep), note(rep)
        client.force_login(rep)

        inside = client.post(reverse("notification_read", args=[first.pk]), {"next": "/notifications/?page=2"})
        outside = client.post(reverse("notification_read", args=[second.pk]), {"next": "https://evil.example/"})

        assert inside.url == "/notifications/?page=2"
        assert outside.url == reverse("notifications")

    def test_mark_all_read_marks_only_mine(self, client, rep, other_rep):
        """Mark all read sets read_at on every unread notification of the user and on no one else's."""
        mine = [note(rep), note(rep)]
        theirs = note(other_rep)
        client.force_login(rep)

        response = client.post(reverse("notifications_read_all"), follow=True)

        assert "2 notifications marked read." in response.content.decode()
        assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).exists()
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_another_users_notification_is_not_found(self, client, rep, other_rep):
        """Neither listed nor markable: another user's id answers 404 and stays unread."""
        theirs = note(other_rep, "Private to the other rep")
        client.force_login(rep)

        listed = client.get(reverse("notifications")).content.decode()
        response = client.post(reverse("notification_read", args=[theirs.pk]))

        assert "Private to the other rep" not in listed
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_marking_read_takes_a_post(self, client, rep):
        notification = note(rep)
        client.force_login(rep)

        assert client.get(reverse("notification_read", args=[notification.pk])).status_code == 405
        assert client.get(reverse("notifications_read_all")).status_code == 405
        notification.refresh_from_db()
        assert notification.read_at is None

    @pytest.mark.parametrize(
        "method, name, args",
        [
            ("get", "notifications", []),
            ("get", "preferences", []),
            ("post", "preferences", []),
            ("post", "notification_read", [1]),
            ("post", "notifications_read_all", []),
        ],
    )
    def test_anonymous_users_are_sent_to_login(self, client, method, name, args):
        response = getattr(client, method)(reverse(name, args=args))

        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
class TestPreferencesAndTimeZones:
    def test_a_user_sets_time_zone_and_emails(self, client, marketer):
        """The page opens with the defaults; a valid POST saves them and says so."""
        client.force_login(marketer)

        page = client.get(reverse("preferences"))
        assert page.status_code == 200
        assert page.context["form"].initial["time_zone"] == "Europe/Berlin"
        response = client.post(
            reverse("preferences"),
            {"time_zone": "America/New_York", "email_mode": Mode.DAILY, "email_returned": "on"},
            follow=True,
        )

        assert "Your preferences are saved." in response.content.decode()
        prefs = UserPreferences.objects.get(user=marketer)
        assert (prefs.time_zone, prefs.email_mode) == ("America/New_York", Mode.DAILY)
        assert (prefs.email_returned, prefs.email_breaches, prefs.email_warnings) == (True, False, False)

    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Europe/Berlin'; DROP TABLE x; --"])
    def test_an_unknown_time_zone_is_refused_with_a_message(self, client, marketer, zone):
        """An unknown zone re-shows the form with a clear error; the saved preferences are unchanged."""
        prefer(marketer, time_zone="Asia/Tokyo")
        client.force_login(marketer)

        response = client.post(reverse("preferences"), {"time_zone": zone, "email_mode": Mode.EACH})

        assert response.status_code == 200
        assert response.context["form"].errors["time_zone"]
        assert UserPreferences.objects.get(user=marketer).time_zone == "Asia/Tokyo"

    def test_the_model_refuses_an_unknown_zone_too(self, marketer):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="not a time zone we know"):
            UserPreferences(user=marketer, time_zone="Nowhere/Special").full_clean()

    def test_each_viewer_sees_times_in_their_own_zone(self, client, rep, other_rep):
        """One instant, 12:00 UTC on 15 January 2026, reads 21:00 JST to a rep in Tokyo and 07:00 EST
        to one in New York; a user who chose nothing sees the site's zone (Berlin, 13:00 CET)."""
        instant = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.UTC)
        berliner = UserFactory(username="berliner", role=Role.SALES)
        for user in (rep, other_rep, berliner):
            note(user, created_at=instant)
        prefer(rep, time_zone="Asia/Tokyo")
        prefer(other_rep, time_zone="America/New_York")

        shown = {}
        for user in (rep, other_rep, berliner):
            client.force_login(user)
            shown[user.username] = client.get(reverse("notifications")).content.decode()

        assert "15 Jan 2026 21:00 JST" in shown["rep"]
        assert "15 Jan 2026 07:00 EST" in shown["other_rep"]
        assert "15 Jan 2026 13:00 CET" in shown["berliner"]

    def test_the_lead_page_shows_the_due_time_in_the_viewers_zone(self, client, marketer, campaign):
        """The same claim deadline, 09:30 UTC on 1 July 2030, is due at 19:30 on the page of a marketer
        in Sydney and at 02:30 on that of a manager in Los Angeles."""
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
        Deadline.objects.filter(lead=lead).update(due_at=datetime.datetime(2030, 7, 1, 9, 30, tzinfo=datetime.UTC))
        prefer(marketer, time_zone="Australia/Sydney")
        manager = UserFactory(username="boss", role=Role.MANAGERS)
        prefer(manager, time_zone="America/Los_Angeles")

        client.force_login(marketer)
        sydney = client.get(lead.get_absolute_url()).content.decode()
        client.force_login(manager)
        los_angeles = client.get(lead.get_absolute_url()).content.decode()

        assert "1 Jul 19:30" in sydney and "1 Jul 02:30" not in sydney
        assert "1 Jul 02:30" in los_angeles and "1 Jul 19:30" not in los_angeles

    def test_the_zone_does_not_leak_to_the_next_request(self, client, rep):
        """After a request by a user in Tokyo, code outside any request runs in the site's zone again."""
        prefer(rep, time_zone="Asia/Tokyo")
        client.force_login(rep)

        client.get(reverse("notifications"))

        assert timezone.get_current_timezone() == ZoneInfo("Europe/Berlin")


@pytest.mark.django_db
class TestEmails:
    def test_each_sends_one_email_after_commit_with_the_link(
        self, marketer, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """With "each", notify enqueues one email task on commit; it sends one email that links to the
        lead on the site, and sending again changes nothing."""
        lead = LeadFactory(campaign=campaign)

        with django_capture_on_commit_callbacks() as enqueued:
            notification = notify(user=marketer, kind=Kind.RETURNED, title="Lead returned", body="Why", lead=lead)
        assert mailoutbox == []
        deliver(enqueued)

        assert [mail.to for mail in mailoutbox] == [[marketer.email]]
        assert f"Open the lead: {SITE}/leads/{lead.pk}/" in mailoutbox[0].body
        assert f"{SITE}/preferences/" in mailoutbox[0].body
        notification.refresh_from_db()
        assert notification.emailed_at is not None
        assert notification_email_send(notification_id=notification.pk) is False
        assert len(mailoutbox) == 1

    def test_a_digest_user_gets_nothing_until_the_digest(
        self, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """On the hourly digest, notify enqueues no email; the hourly digest sends one email listing both
        notifications with their links, and the daily digest has nothing for this user."""
        prefer(manager, email_mode=Mode.HOURLY)
        leads = [LeadFactory(campaign=campaign), LeadFactory(campaign=campaign)]

        with django_capture_on_commit_callbacks() as enqueued:
            for n, lead in enumerate(leads):
                notify(user=manager, kind=Kind.BREACH, title=f"Breach {n}", body="Missed", lead=lead)

        assert enqueued == []
        assert digests_send(mode=Mode.DAILY) == 0
        assert digests_send(mode=Mode.HOURLY) == 1
        (mail,) = mailoutbox
        assert mail.to == [manager.email]
        assert "2 notifications (hourly digest)" in mail.subject
        assert "Breach 0" in mail.body and "Breach 1" in mail.body
        for lead in leads:
            assert f"{SITE}/leads/{lead.pk}/" in mail.body
        assert not Notification.objects.filter(user=manager, emailed_at__isnull=True).exists()

    def test_a_digest_is_sent_once(self, manager, rep, mailoutbox):
        """Two digest runs in a row: the second sends nothing; a new notification goes in the next one."""
        prefer(manager, email_mode=Mode.DAILY)
        notify(user=manager, kind=Kind.BREACH, title="First", body="")

        assert [send_digests(Mode.DAILY), send_digests(Mode.DAILY)] == [1, 0]
        notify(user=manager, kind=Kind.BREACH, title="Second", body="")
        assert send_digests(Mode.DAILY) == 1

        assert len(mailoutbox) == 2
        assert "Second" in mailoutbox[1].body and "First" not in mailoutbox[1].body

    def test_a_user_back_on_single_emails_still_gets_what_waited(self, manager, mailoutbox):
        """Notifications left for a daily digest by a user who then chose single emails go out in the
        next hourly digest rather than never."""
        prefer(manager, email_mode=Mode.DAILY)
        notify(user=manager, kind=Kind.BREACH, title="Waiting", body="")
        prefer(manager, email_mode=Mode.EACH)

        assert digests_send(mode=Mode.DAILY) == 0
        assert digests_send(mode=Mode.HOURLY) == 1
        assert "Waiting" in mailoutbox[0].body

    def test_unwanted_kinds_stay_in_the_app(self, marketer, mailoutbox, django_capture_on_commit_callbacks):
        """A user who turned off emails about returned leads still sees them in the app, and no email
        or digest carries them."""
        prefer(marketer, email_returned=False, email_mode=Mode.HOURLY)

        with django_capture_on_commit_callbacks() as enqueued:
            notification = notify(user=marketer, kind=Kind.RETURNED, title="Returned", body="")

        assert notification.delivery == Notification.Delivery.IN_APP
        assert enqueued == []
        assert digests_send(mode=Mode.HOURLY) == 0
        assert mailoutbox == []
        assert unread_badge(marketer) == "1"

    def test_the_same_event_notifies_once(self, rep, django_capture_on_commit_callbacks):
        """Two calls with the same key (a retried task) make one notification and one email task."""
        with django_capture_on_commit_callbacks() as enqueued:
            first = notify(user=rep, kind=Kind.WARNING, title="Soon due", body="", key="warning:1")
            again = notify(user=rep, kind=Kind.WARNING, title="Soon due", body="", key="warning:1")

        assert first is not None and again is None
        assert Notification.objects.filter(user=rep).count() == 1
        assert len(enqueued) == 1


@pytest.mark.django_db
class TestFlows:
    def test_a_breach_notifies_the_owner_and_the_managers_each_their_way(
        self, marketer, rep, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """A missed first contact: the rep who owns the lead and the manager on single emails get an
        email each now, the manager on the daily digest gets it in the digest, all three see it in the
        app; the rep's email gives the due time in the rep's own zone."""
        digest_manager = UserFactory(username="digest_boss", role=Role.MANAGERS)
        prefer(digest_manager, email_mode=Mode.DAILY)
        prefer(rep, time_zone="Asia/Kolkata")
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)

        with django_capture_on_commit_callbacks() as enqueued:
            deadline = breached(lead)
            # The sweep told everyone in the breach's own batch; nobody is told twice.
            assert breach_notify(deadline_id=deadline.pk) is False
        deliver(enqueued)

        assert sorted(mail.to[0] for mail in mailoutbox) == sorted([rep.email, manager.email])
        assert all(f"{SITE}/leads/{lead.pk}/" in mail.body for mail in mailoutbox)
        rep_mail = next(mail for mail in mailoutbox if mail.to == [rep.email])
        assert "IST" in rep_mail.body
        assert Notification.objects.filter(kind=Kind.BREACH, lead=lead).count() == 3
        assert digests_send(mode=Mode.DAILY) == 1
        assert mailoutbox[-1].to == [digest_manager.email]
        assert "SLA breach" in mailoutbox[-1].body
        assert not Notification.objects.filter(user=marketer).exists()

    def test_a_lead_returned_by_sales_notifies_the_campaigns_owner_once(
        self, marketer, rep, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """After a rep returns a lead, the campaign's marketer gets one notification with the reason and a
        link, emailed once; running the hook again adds nothing."""
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.RETURNED, marketer=marketer, rep=rep)

        with django_capture_on_commit_callbacks() as enqueued:
            notification = notify_lead_returned(lead.pk)
            assert notify_lead_returned(lead.pk) is None
        deliver(enqueued)

        assert (notification.user, notification.kind, notification.lead) == (marketer, Kind.RETURNED, lead)
        assert "Outside our market" in notification.body
        assert [mail.to for mail in mailoutbox] == [[marketer.email]]
        assert f"{SITE}/leads/{lead.pk}/" in mailoutbox[0].body

    def test_a_lead_never_returned_notifies_nobody(self, marketer, rep, campaign):
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)

        assert notify_lead_returned(lead.pk) is None
        assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_one_email(mailoutbox):
    """Four workers run the hourly digest at the same moment for three users with pending notifications:
    each user gets exactly one email, and every notification is marked emailed."""
    users = [UserFactory(username=f"digest{n}", role=Role.MANAGERS) for n in range(3)]
    for user in users:
        prefer(user, email_mode=Mode.HOURLY)
        for n in range(5):
            notify(user=user, kind=Kind.BREACH, title=f"Breach {n}", body="")
    runners = 4
    start = threading.Barrier(runners, timeout=10)
    counts, errors = [], []

    def run():
        try:
            start.wait()
            counts.append(digests_send(mode=Mode.HOURLY))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(counts) == 3
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(user.email for user in users)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
