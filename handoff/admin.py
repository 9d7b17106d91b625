from django.contrib import admin

from leads.admin import ReadOnlyAdmin

from .models import (
    BusinessCalendar,
    CalendarHoliday,
    Deadline,
    Handoff,
    Notification,
    OpeningHours,
    SlaPolicy,
    SweepHeartbeat,
    UserPreferences,
)


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


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "title", "created_at", "read_at", "delivery", "emailed_at"]
    list_filter = ["kind", "delivery"]


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone", "email_mode"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class CalendarHolidayInline(admin.TabularInline):
    model = CalendarHoliday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "country", "subdivision", "is_default"]
    inlines = [OpeningHoursInline, CalendarHolidayInline]


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ["calendar", "weekday", "opens", "closes"]


@admin.register(CalendarHoliday)
class CalendarHolidayAdmin(admin.ModelAdmin):
    list_display = ["calendar", "date", "name"]


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["last_started_at", "last_finished_at", "last_breached", "last_duration_ms", "runs"]
