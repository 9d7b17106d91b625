# Names without a namespace: the pages kept the names they had before the apps were split.
from django.urls import path

from reporting import views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/live/", views.dashboard_live, name="dashboard_live"),
    path("dashboard/table/<slug:table>/", views.DashboardTableView.as_view(), name="dashboard_table"),
    path("dashboard/leads/", views.DashboardLeadsView.as_view(), name="dashboard_leads"),
    path("dashboard/export/<slug:table>.csv", views.dashboard_export, name="dashboard_export"),
]
