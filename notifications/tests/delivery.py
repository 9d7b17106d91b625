"""Helpers for tests that send notifications' emails as the worker would."""

from common.models import OutboxMessage
from common.outbox import publish_after_commit
from notifications.models import UserPreferences
from notifications.tasks import send_notification_email, send_notification_emails


def prefer(user, **fields) -> UserPreferences:
    return UserPreferences.objects.update_or_create(user=user, defaults=fields)[0]


EMAIL_TASKS = {
    send_notification_email.delay: send_notification_email,
    send_notification_emails.delay: send_notification_emails,
}


def deliver(callbacks) -> None:
    """Run the email tasks (one email, or a batch of them) that were enqueued on commit, directly or
    through the outbox, as the worker would; other tasks (escalation steps) are not this helper's
    business."""
    by_name = {task.name: task for task in EMAIL_TASKS.values()}
    for callback in callbacks:
        if callback.func in EMAIL_TASKS:
            EMAIL_TASKS[callback.func](*callback.args)
        elif callback.func is publish_after_commit:
            message = OutboxMessage.objects.get(pk=callback.args[0])
            if message.task in by_name:
                by_name[message.task](*message.args)
