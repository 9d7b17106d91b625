from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from handoff import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("welcome/", views.NoRoleView.as_view(), name="no_role"),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("", include("people.urls")),
    path("", include("notifications.urls")),
    path("", include("sla.urls")),
    path("", include("replays.urls")),
    path("", include("reporting.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("leads/", include("leads.urls")),
    path("routing/", include("routing.urls")),
    path("appeals/", include("appeals.urls")),
    path("api/", include("api.urls")),
    path("integrations/", include("integrations.urls")),
    path("admin/", admin.site.urls),
]

# PostgreSQL not answering is a 503 (briefly unavailable, retry), anything else the 500 page.
handler500 = "handoff.views.errors.server_error"
