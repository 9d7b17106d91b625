from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Small helpers every app may use: date ranges people type, paging, CSV cells, local midnights,
    bulk SQL, client addresses, the read-only admin, money and sorting tags."""

    name = "common"
    default_auto_field = "django.db.models.BigAutoField"
