from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Who people are to Handoff: roles, names, the menu they see, locked logins."""

    name = "people"
    default_auto_field = "django.db.models.BigAutoField"
