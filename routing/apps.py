from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Who gets a lead automatically: shifts and time off, weighted turns, and the reason on record."""

    name = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The lead services sit below this app: they reach the router through the door they keep for it.
        from leads.assignment import router_register

        from .router import WeightedRouter

        router_register(WeightedRouter())
