"""The admin site, in a module of its own: Django imports it while the admin modules register their models."""

from django.contrib import admin


class HandoffAdminSite(admin.AdminSite):
    """The admin is a tool for superusers (operators), not part of anyone's daily work: managers
    steer Handoff in its own pages, so `is_staff` alone opens nothing here."""

    site_header = "Handoff administration"

    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser
