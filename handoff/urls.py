from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .views import calendars as calendars_views
from .views import lockouts as lockouts_views
from .views import notifications as notifications_views
from .views import policies as policies_views
from .views import site as site_views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", site_views.LogoutView.as_view(), name="logout"),
    path("favicon.ico", site_views.FaviconView.as_view(), name="favicon"),
    path("accounts/lockouts/", lockouts_views.LockoutListView.as_view(), name="login_lockouts"),
    path("accounts/lockouts/unlock/", lockouts_views.lockout_unlock, name="login_unlock"),
    path("welcome/", views.NoRoleView.as_view(), name="no_role"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/live/", views.dashboard_live, name="dashboard_live"),
    path("dashboard/leads/", views.DashboardLeadsView.as_view(), name="dashboard_leads"),
    path("dashboard/export/<slug:table>.csv", views.dashboard_export, name="dashboard_export"),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("campaigns/", include("campaigns.urls")),
    path("leads/", include("leads.urls")),
    path("admin/", admin.site.urls),
    path("notifications/", notifications_views.NotificationListView.as_view(), name="notifications"),
    path("notifications/<int:pk>/read/", notifications_views.mark_read, name="notification_read"),
    path("notifications/read-all/", notifications_views.mark_all_read, name="notifications_read_all"),
    path("preferences/", notifications_views.PreferencesView.as_view(), name="preferences"),
    path("sla/policy/", policies_views.PolicyView.as_view(), name="sla_policy"),
    path("sla/policy/new/", policies_views.PolicyPublishView.as_view(), name="sla_policy_new"),
    path("calendars/", calendars_views.CalendarListView.as_view(), name="calendars"),
    path("calendars/new/", calendars_views.CalendarFormView.as_view(), name="calendar_create"),
    path("calendars/<int:pk>/", calendars_views.CalendarFormView.as_view(), name="calendar_edit"),
    path("calendars/<int:pk>/holidays/", calendars_views.CalendarHolidayAddView.as_view(), name="calendar_holiday_add"),
    path(
        "calendars/<int:pk>/holidays/<int:holiday_pk>/remove/",
        calendars_views.calendar_holiday_remove,
        name="calendar_holiday_remove",
    ),
]
