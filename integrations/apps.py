from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Handoff talking to other systems: alerts in Slack and Microsoft Teams, and signed outbound webhooks
    fed by an outbox the database writes in the transaction of each change."""

    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
