from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Attempt, Channel, Delivery, Endpoint, OutboxEvent, Storm


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    """Managed on Handoff's Alerts and webhooks page; the admin only reads (secrets stay out of lists)."""

    list_display = ["name", "url", "enabled", "failing_since", "last_success_at", "created_at"]


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "team", "person", "enabled", "failing_since", "last_success_at"]
    list_select_related = ["team", "person"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["pk", "event_type", "lead_event_id", "policy_id", "occurred_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event_type", "message_id", "endpoint", "channel", "status", "attempts"]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint", "channel"]


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["at", "delivery", "status_code", "error", "duration_ms"]
    list_select_related = ["delivery"]


@admin.register(Storm)
class StormAdmin(ReadOnlyAdmin):
    list_display = ["channel", "event_type", "subject", "started_at", "last_at", "held", "summarised_at"]
    list_select_related = ["channel"]
