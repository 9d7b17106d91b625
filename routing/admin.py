from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import RoutingDecision, TimeOff


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["rep", "starts_on", "ends_on", "note", "created_by"]
    list_select_related = ["rep", "created_by"]


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyAdmin):
    """Written by routing only: the record of why each lead went where it did."""

    list_display = ["decided_at", "lead", "trigger", "chosen", "team", "retry_at"]
    list_filter = ["trigger"]
    list_select_related = ["lead", "chosen", "team"]
