"""Helpers for tests that send notifications' emails as the worker would."""

from notifications.models import UserPreferences
from notifications.tasks import send_notification_email, send_notification_emails


def prefer(user, **fields) -> UserPreferences:
    return UserPreferences.objects.update_or_create(user=user, defaults=fields)[0]


EMAIL_TASKS = {
    send_notification_email.delay: send_notification_email,
    send_notification_emails.delay: send_notification_emails,
}


def deliver(callbacks) -> None:
    """Run the email tasks (one email, or a batch of them) that were enqueued on commit, as the worker
    would; other tasks (escalation steps) are not this helper's business."""
    for callback in callbacks:
        if callback.func in EMAIL_TASKS:
            EMAIL_TASKS[callback.func](*callback.args)
