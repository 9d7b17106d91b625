# Names without a namespace: the pages kept the names they had before the apps were split.
from django.urls import path

from sla.views import calendars, policies

urlpatterns = [
    path("sla/policy/", policies.PolicyView.as_view(), name="sla_policy"),
    path("sla/policy/new/", policies.DraftFormView.as_view(), name="sla_policy_new"),
    path("sla/drafts/<int:pk>/", policies.DraftView.as_view(), name="sla_draft"),
    path("sla/drafts/<int:pk>/edit/", policies.DraftFormView.as_view(), name="sla_draft_edit"),
    path("sla/drafts/<int:pk>/sign/", policies.draft_sign, name="sla_draft_sign"),
    path("calendars/", calendars.CalendarListView.as_view(), name="calendars"),
    path("calendars/new/", calendars.CalendarFormView.as_view(), name="calendar_create"),
    path("calendars/<int:pk>/", calendars.CalendarFormView.as_view(), name="calendar_edit"),
    path("calendars/<int:pk>/holidays/", calendars.CalendarHolidayAddView.as_view(), name="calendar_holiday_add"),
    path(
        "calendars/<int:pk>/holidays/<int:holiday_pk>/remove/",
        calendars.calendar_holiday_remove,
        name="calendar_holiday_remove",
    ),
]
