from django.contrib import admin

from common.admin import ReadOnlyAdmin
from enforcement.models import SweepHeartbeat


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["last_started_at", "last_finished_at", "last_breached", "last_duration_ms", "runs"]
