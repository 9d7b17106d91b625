"""What every app's admin shares."""

from django.contrib import admin

from .models import OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only the services write: visible in the admin, never edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Tasks requests started, and whether the broker has them yet (the relay publishes the rest)."""

    list_display = ["id", "task", "created_at", "published_at", "attempts"]
    list_filter = ["task"]
