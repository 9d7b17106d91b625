from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HandoffConfig(AppConfig):
    """What sits between the departments: SLA policy, deadlines, the sweep, the dashboard."""

    name = "handoff"
    default = True
    default_auto_field = "django.db.models.BigAutoField"


class HandoffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, for superusers only (see handoff.admin_site.HandoffAdminSite)."""

    default = False  # listed by its full path in INSTALLED_APPS, in place of django.contrib.admin
    default_site = "handoff.admin_site.HandoffAdminSite"
