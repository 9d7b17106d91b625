from django.contrib import admin

from leads.admin import ReadOnlyAdmin

from .models import Deadline, Handoff, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """The newest policy is in force; deadlines already set keep the time they were given."""

    list_display = ["name", "claim_hours", "first_contact_hours", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    list_display = ["lead", "handed_off_by", "handed_off_at", "claimed_by", "claimed_at", "outcome", "closed_at"]
    list_filter = ["outcome"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["lead", "kind", "owner", "due_at", "met_at", "breached_at", "cancelled_at"]
    list_filter = ["kind"]
