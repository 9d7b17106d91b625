from django.contrib import admin

from common.admin import ReadOnlyAdmin
from reporting.models import DeadlineOutcome


@admin.register(DeadlineOutcome)
class DeadlineOutcomeAdmin(ReadOnlyAdmin):
    """Kept by a trigger from the deadlines; rebuilt with `manage.py rebuild_counts`, never edited."""

    list_display = ["hour", "kind", "campaign", "owner", "on_time", "late", "recorded"]
    list_filter = ["kind"]
    list_select_related = ["campaign", "owner"]
