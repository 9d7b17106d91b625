from django.contrib import admin

from common.admin import ReadOnlyAdmin
from reporting.models import (
    AcceptanceDay,
    DeadlineOutcome,
    DeadlineOutcomeMonth,
    DeadlineOutcomeWeek,
    EscalationDay,
    MetTimeDay,
    MetTimeMonth,
)


@admin.register(DeadlineOutcome)
class DeadlineOutcomeAdmin(ReadOnlyAdmin):
    """Kept by a trigger from the deadlines; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["hour", "kind", "campaign", "owner", "on_time", "late", "recorded"]
    list_filter = ["kind"]
    list_select_related = ["campaign", "owner"]


@admin.register(DeadlineOutcomeMonth)
class DeadlineOutcomeMonthAdmin(ReadOnlyAdmin):
    """The hours above summed per month, per owner and per campaign apart; kept by a trigger, rebuilt
    with `manage.py rebuild_counts`, never edited."""

    list_display = ["month", "per", "kind", "campaign", "owner", "on_time", "late", "recorded", "slot"]
    list_filter = ["per", "kind"]
    list_select_related = ["campaign", "owner"]


@admin.register(AcceptanceDay)
class AcceptanceDayAdmin(ReadOnlyAdmin):
    """Marketing's hand-offs per day and campaign with their claim clocks; kept by triggers on the
    hand-offs and the deadlines, rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["day", "campaign", "handed_off", "closed", "claimed", "returned", "by_escalation", "slot"]
    list_select_related = ["campaign"]


@admin.register(EscalationDay)
class EscalationDayAdmin(ReadOnlyAdmin):
    """Escalation steps done per day of their breached deadlines' due time, kind, owner and campaign;
    kept by triggers on the steps and the deadlines, rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["day", "kind", "owner", "campaign", "escalations", "slot"]
    list_filter = ["kind"]
    list_select_related = ["campaign", "owner"]


@admin.register(MetTimeDay)
class MetTimeDayAdmin(ReadOnlyAdmin):
    """Met deadlines per day they were decided, kind and bucket of business time; kept by triggers on
    the deadlines, rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["day", "kind", "bucket", "deadlines", "slot"]
    list_filter = ["kind"]


@admin.register(MetTimeMonth)
class MetTimeMonthAdmin(ReadOnlyAdmin):
    """The days above summed per month; kept by a trigger on them, rebuilt with `manage.py
    rebuild_counts`, never edited."""

    list_display = ["month", "kind", "bucket", "deadlines", "slot"]
    list_filter = ["kind"]


@admin.register(DeadlineOutcomeWeek)
class DeadlineOutcomeWeekAdmin(ReadOnlyAdmin):
    """The hours summed per local week of the month (days 1–7, 8–14, 15–21, 22–28, 29 to the end), per
    owner and per campaign apart; kept by a trigger, rebuilt with `manage.py rebuild_counts`."""

    list_display = ["week", "per", "kind", "campaign", "owner", "on_time", "late", "recorded", "slot"]
    list_filter = ["per", "kind"]
    list_select_related = ["campaign", "owner"]
