from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Marketing's world: campaigns and the leads they capture."""

    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"
