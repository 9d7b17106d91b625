from django.contrib import admin

from .models import Deal, Lead, LeadEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only the services write: visible in the admin, never edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
