from django.apps import AppConfig


class ReplaysConfig(AppConfig):
    """Replays of a policy draft on past weeks: what the draft would have made of what really happened."""

    name = "replays"
    default_auto_field = "django.db.models.BigAutoField"
