from django.contrib import admin

from common.admin import ReadOnlyAdmin
from replays.models import Replay, ReplayFlip


@admin.register(Replay)
class ReplayAdmin(ReadOnlyAdmin):
    """Replays are asked for on a draft's page and written by the worker; the admin only reads them."""

    list_display = ["id", "draft", "revision", "weeks", "status", "requested_by", "requested_at", "done", "total"]
    list_filter = ["status"]
    list_select_related = ["draft", "requested_by"]


@admin.register(ReplayFlip)
class ReplayFlipAdmin(ReadOnlyAdmin):
    list_display = ["replay", "deadline", "kind", "priority", "recorded_due_at", "replayed_due_at", "now_met"]
    list_filter = ["kind", "now_met"]
    raw_id_fields = ["replay", "deadline", "lead", "owner"]
