from django.contrib import admin

from appeals.models import Appeal, AppealRuling, Arbiter
from common.admin import ReadOnlyAdmin


@admin.register(Arbiter)
class ArbiterAdmin(admin.ModelAdmin):
    """Managers designated to rule on one side's appeals, beside the other department's head."""

    list_display = ["user", "rules_on"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    """Appeals are made from a breach's receipt or the lead's timeline; never edited."""

    list_display = ["id", "deadline", "side", "charged_to", "appellant", "created_at"]
    list_filter = ["side"]


@admin.register(AppealRuling)
class AppealRulingAdmin(ReadOnlyAdmin):
    list_display = ["appeal", "outcome", "judge", "created_at"]
    list_filter = ["outcome"]
