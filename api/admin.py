from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import ApiToken
from .tokens import token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens as their owners see them (never a key: only its hash exists); a superuser may revoke one."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(user=token.user, token_id=token.pk)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")
