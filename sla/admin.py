from django.contrib import admin

from common.admin import ReadOnlyAdmin
from sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    Deadline,
    DepartmentHead,
    Escalation,
    Handoff,
    OpeningHours,
    PolicyDraft,
    PolicyDraftEvent,
    PolicySignature,
    SlaPolicy,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    """Versions are published from Handoff's SLA policy page and never edited: deadlines point at them."""

    list_display = ["version", "name", "claim_hours_hot", "claim_hours_warm", "claim_hours_cold", "created_at"]


@admin.register(DepartmentHead)
class DepartmentHeadAdmin(admin.ModelAdmin):
    """Who signs the agreement for each department: a manager; one person may head both."""

    list_display = ["department", "user"]


@admin.register(PolicyDraft)
class PolicyDraftAdmin(ReadOnlyAdmin):
    """Drafts are written and signed on the SLA policy pages, and started by the start job."""

    list_display = ["id", "status", "starts_at", "revision", "created_by", "started_at", "policy"]
    list_filter = ["status"]


@admin.register(PolicySignature)
class PolicySignatureAdmin(ReadOnlyAdmin):
    list_display = ["draft", "department", "signer", "revision", "signed_at"]


@admin.register(PolicyDraftEvent)
class PolicyDraftEventAdmin(ReadOnlyAdmin):
    list_display = ["draft", "kind", "actor", "revision", "created_at", "note"]
    list_filter = ["kind"]


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    list_display = ["lead", "handed_off_by", "handed_off_at", "claimed_by", "claimed_at", "outcome", "closed_at"]
    list_filter = ["outcome"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["lead", "kind", "priority", "owner", "due_at", "warned_at", "met_at", "breached_at", "cancelled_at"]
    list_filter = ["kind", "priority"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["deadline", "lead", "position", "step", "created_at", "done_at", "outcome"]
    list_filter = ["step"]


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
