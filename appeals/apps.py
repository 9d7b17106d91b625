from django.apps import AppConfig


class AppealsConfig(AppConfig):
    """Appeals of SLA breaches and the other department's rulings on them, on the record."""

    name = "appeals"
    default_auto_field = "django.db.models.BigAutoField"
