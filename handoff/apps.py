from django.apps import AppConfig


class HandoffConfig(AppConfig):
    """What sits between the departments: SLA policy, deadlines, the sweep, the dashboard."""

    name = "handoff"
    default_auto_field = "django.db.models.BigAutoField"
