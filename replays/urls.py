from django.urls import path

from replays import views

urlpatterns = [
    path("sla/drafts/<int:pk>/replay/", views.draft_replay, name="draft_replay"),
    path("sla/replays/<int:pk>/", views.ReplayView.as_view(), name="replay"),
    path("sla/replays/<int:pk>/progress/", views.replay_progress, name="replay_progress"),
]
