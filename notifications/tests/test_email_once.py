"""Every notification meant to be emailed is emailed exactly once, whatever fails in between: the
database going away after the send, the mail server down, a task delivered twice, a worker killed
between claiming an email and sending it."""

import datetime
import socket

import psycopg2
import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from notifications.services import EMAIL_CLAIM_LEASE, notification_email_send, notification_emails_resend, notify
from notifications.tasks import send_notification_emails
from notifications.tests.delivery import deliver

MINUTE = datetime.timedelta(minutes=1)


def breach_notice_for(user) -> Notification:
    notification = notify(user=user, kind=Notification.Kind.BREACH, title="SLA breach: claim of Ada", body="Missed.")
    assert notification.delivery == Notification.Delivery.EMAIL
    return notification


class DatabaseGoneAfterSend(EmailBackend):
    """A mail server that takes the message, after which the worker's database session is killed from
    another session (a restart, a failover, an administrator): the next statement on the worker's
    connection fails for real."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        db = connection.settings_dict
        admin = psycopg2.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
        )
        try:
            with admin, admin.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.get_backend_pid()])
        finally:
            admin.close()
        return sent


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_the_database_going_away_after_the_send_neither_loses_nor_doubles_the_email(manager, settings):
    """The mail goes out, then the worker's database session is killed before the email is marked
    sent: the mark is retried on a new connection, and the task delivered again sends nothing."""
    notification = breach_notice_for(manager)
    settings.EMAIL_BACKEND = f"{__name__}.DatabaseGoneAfterSend"
    mail.outbox = []
    session = connection.connection.get_backend_pid()

    assert send_notification_emails([notification.pk]) == 1
    assert connection.connection.get_backend_pid() != session, "the database session was not killed"
    assert send_notification_emails([notification.pk]) == 0  # the same message delivered again

    assert [message.to for message in mail.outbox] == [[manager.email]]
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification_emails_resend(older_than=datetime.timedelta(0)) == 0


@pytest.mark.django_db
def test_a_mail_server_down_gives_the_claim_back_and_the_safety_net_sends_once(
    manager, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """Nothing listens on the mail port: the send fails for real and the claim is given back; once the
    server is back, the safety net sends the email, once, even if its task runs twice."""
    notification = breach_notice_for(manager)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2

    with pytest.raises(OSError):
        notification_email_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (notification.emailed_at, notification.email_claimed_at) == (None, None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + 10 * MINUTE
    with django_capture_on_commit_callbacks() as enqueued:
        assert notification_emails_resend(now=later) == 1
    deliver(enqueued)
    deliver(enqueued)

    assert [message.to for message in mailoutbox] == [[manager.email]]
    assert notification_emails_resend(now=later) == 0


@pytest.mark.django_db
def test_a_claim_left_by_a_killed_worker_is_sent_after_its_lease(
    manager, mailoutbox, django_capture_on_commit_callbacks
):
    """A worker claimed the email and died before sending it: nobody sends it while the claim may still
    be live (that could be a second send); the safety net sends it once the lease has lapsed."""
    notification = breach_notice_for(manager)
    claimed = Notification.objects.filter(pk=notification.pk)
    claimed.update(email_claimed_at=timezone.now())

    assert notification_email_send(notification_id=notification.pk) is False
    assert notification_emails_resend(older_than=datetime.timedelta(0)) == 0
    claimed.update(email_claimed_at=timezone.now() - EMAIL_CLAIM_LEASE - MINUTE)
    with django_capture_on_commit_callbacks() as enqueued:
        assert notification_emails_resend(older_than=datetime.timedelta(0)) == 1
    deliver(enqueued)

    assert [message.to for message in mailoutbox] == [[manager.email]]
    assert claimed.get().emailed_at is not None
