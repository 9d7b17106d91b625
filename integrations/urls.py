from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.index, name="index"),
    path("channels/new/", views.channel_new, name="channel_new"),
    path("channels/<int:pk>/", views.channel_detail, name="channel"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
    path("channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("webhooks/new/", views.endpoint_new, name="endpoint_new"),
    path("webhooks/<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("webhooks/<int:pk>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("webhooks/<int:pk>/test/", views.endpoint_test, name="endpoint_test"),
    path("webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
]
