from django.contrib import admin

from common.admin import ReadOnlyAdmin
from notifications.models import Notification, UserPreferences


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "title", "created_at", "read_at", "delivery", "emailed_at"]
    list_filter = ["kind", "delivery"]


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone", "email_mode"]
