from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import RoutingDecision, RoutingRule, RuleSet, TimeOff, WorkingHours


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["rep", "starts_on", "ends_on", "note", "created_by"]
    list_select_related = ["rep", "created_by"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["rep", "weekday", "starts", "ends"]
    list_filter = ["weekday"]
    list_select_related = ["rep"]


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyAdmin):
    """Written by routing only: the record of why each lead went where it did."""

    list_display = ["decided_at", "lead", "trigger", "chosen", "team", "retry_at"]
    list_filter = ["trigger"]
    list_select_related = ["lead", "chosen", "team"]


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RuleSet)
class RuleSetAdmin(ReadOnlyAdmin):
    """Versions are published from Handoff's Routing rules page and never edited: decisions point at them."""

    list_display = ["version", "created_at", "created_by", "owner_match_days", "rebalance", "note"]
    inlines = [RoutingRuleInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(ReadOnlyAdmin):
    list_display = ["ruleset", "position", "name", "team", "rep"]
    list_select_related = ["ruleset", "team", "rep"]
