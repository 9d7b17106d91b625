from django.apps import AppConfig


class LeadsConfig(AppConfig):
    """Sales' world: leads, the queue, claims, first contact, deals."""

    name = "leads"
    default_auto_field = "django.db.models.BigAutoField"
