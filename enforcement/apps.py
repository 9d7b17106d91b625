from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    """The SLA enforced: the sweep that records warnings and breaches, escalation, breach notices, the heartbeat."""

    name = "enforcement"
    default_auto_field = "django.db.models.BigAutoField"
