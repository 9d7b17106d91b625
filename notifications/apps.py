from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The notification centre, its emails and digests, and each user's preferences (time zone, which emails)."""

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"
