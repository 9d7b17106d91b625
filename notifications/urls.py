# Names without a namespace: the pages kept the names they had before the apps were split.
from django.urls import path

from notifications import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/<int:pk>/read/", views.mark_read, name="notification_read"),
    path("notifications/read-all/", views.mark_all_read, name="notifications_read_all"),
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
]
