from django.apps import AppConfig


class SlaConfig(AppConfig):
    """The agreement and its clocks: policy versions, business calendars, hand-offs, deadlines, escalation steps."""

    name = "sla"
    default_auto_field = "django.db.models.BigAutoField"
