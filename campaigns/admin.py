from django.contrib import admin

from .models import Campaign, ImportJob, IntakeRequest, QualificationPolicy, ScoringRule


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "status", "owner", "start_date", "end_date", "budget"]
    list_filter = ["channel", "status"]
    search_fields = ["name"]
    raw_id_fields = ["owner"]


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "points", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(QualificationPolicy)
class QualificationPolicyAdmin(admin.ModelAdmin):
    list_display = ["mql_threshold", "created_at"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "campaign", "status", "total_rows", "valid_rows", "created_count", "created_at"]
    list_filter = ["status"]
    exclude = ["content"]  # the raw upload: up to 20 MB of bytes

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntakeRequest)
class IntakeRequestAdmin(admin.ModelAdmin):
    list_display = ["campaign", "idempotency_key", "status_code", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
