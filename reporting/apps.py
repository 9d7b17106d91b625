from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """The SLA dashboard: its figures, tables, charts, exports and the deadline read model."""

    name = "reporting"
    default_auto_field = "django.db.models.BigAutoField"
