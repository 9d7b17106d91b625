from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HandoffConfig(AppConfig):
    """The project package. An app only so that `manage.py preflight` is found and its migrations
    keep the history of the tables its models had before they moved to their own apps."""

    name = "handoff"
    default = True
    default_auto_field = "django.db.models.BigAutoField"


class HandoffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, for superusers only (see handoff.admin_site.HandoffAdminSite)."""

    default = False  # listed by its full path in INSTALLED_APPS, in place of django.contrib.admin
    default_site = "handoff.admin_site.HandoffAdminSite"
