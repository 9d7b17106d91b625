from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import (
    Activity,
    CampaignMilestone,
    CampaignMonthMqls,
    CampaignRevenue,
    CampaignTally,
    Deal,
    EventCount,
    EventMonthCount,
    EventWeekCount,
    Lead,
    LeadEvent,
    LeadTally,
    MonthlyTarget,
    RepProfile,
    ReturnReason,
    SalesTeam,
)


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "from_status", "to_status", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "company", "campaign", "status", "owner", "score", "created_at"]
    list_filter = ["status", "campaign__channel"]
    search_fields = ["full_name", "email", "company"]
    raw_id_fields = ["campaign", "owner", "created_by"]
    # Status and owner change only through the services, which write the timeline.
    readonly_fields = ["status", "owner", "status_changed_at"]
    inlines = [LeadEventInline]


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "lead", "kind", "actor", "from_status", "to_status"]
    list_filter = ["kind"]
    raw_id_fields = ["lead", "actor"]


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ["lead", "value", "currency", "owner", "created_at"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "lead", "rep", "kind", "outcome", "next_step_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead", "rep"]


@admin.register(SalesTeam)
class SalesTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "auto_assign"]


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "capacity", "is_away", "last_assigned_at"]
    list_filter = ["team", "is_away"]


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "is_active", "position"]

    def has_delete_permission(self, request, obj=None):
        return False  # past returns name these reasons; switch one off instead


@admin.register(MonthlyTarget)
class MonthlyTargetAdmin(admin.ModelAdmin):
    list_display = ["month", "rep", "deals_won", "revenue", "set_by", "updated_at"]
    list_filter = ["month"]


@admin.register(LeadTally)
class LeadTallyAdmin(ReadOnlyAdmin):
    """Kept by triggers on the leads; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["campaign", "owner", "status", "leads"]
    list_filter = ["status"]
    list_select_related = ["campaign", "owner"]


@admin.register(CampaignTally)
class CampaignTallyAdmin(ReadOnlyAdmin):
    """Kept by triggers on the leads; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["campaign", "status", "leads"]
    list_filter = ["status"]
    list_select_related = ["campaign"]


@admin.register(CampaignMilestone)
class CampaignMilestoneAdmin(ReadOnlyAdmin):
    """Kept by triggers on the timeline and the leads; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["campaign", "milestone", "leads"]
    list_filter = ["milestone"]
    list_select_related = ["campaign"]


@admin.register(CampaignMonthMqls)
class CampaignMonthMqlsAdmin(ReadOnlyAdmin):
    """Kept by triggers on the timeline and the leads; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["campaign", "day", "leads"]
    list_select_related = ["campaign"]


@admin.register(CampaignRevenue)
class CampaignRevenueAdmin(ReadOnlyAdmin):
    """Kept by triggers on the deals and the leads; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["campaign", "won_deals", "won_revenue"]
    list_select_related = ["campaign"]


@admin.register(EventCount)
class EventCountAdmin(ReadOnlyAdmin):
    """Kept by a trigger from the timeline; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["day", "kind", "subgroup", "campaign", "user", "value", "amount"]
    list_filter = ["kind"]
    list_select_related = ["campaign", "user"]


@admin.register(EventMonthCount)
class EventMonthCountAdmin(ReadOnlyAdmin):
    """The daily counts above summed per month, per campaign and per person apart; kept by a trigger
    on the daily rows, rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["month", "side", "kind", "subgroup", "campaign", "user", "value", "amount", "slot"]
    list_filter = ["side", "kind"]
    list_select_related = ["campaign", "user"]


@admin.register(EventWeekCount)
class EventWeekCountAdmin(ReadOnlyAdmin):
    """The daily counts summed per week of the month (days 1–7, 8–14, 15–21, 22–28, 29 to the end), per
    campaign and per person apart; kept by a trigger on the daily rows, rebuilt with `manage.py
    rebuild_counts`, never edited."""

    list_display = ["week", "side", "kind", "subgroup", "campaign", "user", "value", "amount", "slot"]
    list_filter = ["side", "kind"]
    list_select_related = ["campaign", "user"]
