from django.urls import path

from . import views

app_name = "routing"

urlpatterns = [
    path("time-off/", views.TimeOffView.as_view(), name="time_off"),
    path("time-off/<int:pk>/remove/", views.time_off_remove, name="time_off_remove"),
    path("hours/", views.WorkingHoursView.as_view(), name="hours"),
    path("hours/<int:rep_id>/", views.WorkingHoursView.as_view(), name="rep_hours"),
    path("log/", views.RoutingLogView.as_view(), name="log"),
    path("rules/", views.RulesView.as_view(), name="rules"),
]
