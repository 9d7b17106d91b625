from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data, bulk fills at scale, storm drills and benchmarks: tools that use every app."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
