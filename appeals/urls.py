from django.urls import path

from appeals import views

app_name = "appeals"
urlpatterns = [
    path("", views.AppealListView.as_view(), name="list"),
    path("deadlines/<int:deadline_id>/", views.DeadlineAppealView.as_view(), name="deadline"),
    path("deadlines/<int:deadline_id>/appeal/", views.appeal_make, name="make"),
    path("<int:pk>/rule/", views.appeal_rule, name="rule"),
]
