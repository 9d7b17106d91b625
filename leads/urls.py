from django.urls import path

from .views import deals, receipts, search, teams, working
from .views import leads as views
from .views import targets as target_views

app_name = "leads"
urlpatterns = [
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("mine/", views.MyLeadsView.as_view(), name="mine"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("<int:pk>/", views.LeadDetailView.as_view(), name="detail"),
    path("<int:pk>/deadlines/<int:deadline_id>/", receipts.DeadlineReceiptView.as_view(), name="deadline_receipt"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/qualify/", views.QualifyView.as_view(), name="qualify"),
    path("<int:pk>/hand-off/", views.HandOffView.as_view(), name="hand_off"),
    path("<int:pk>/renurture/", views.RenurtureView.as_view(), name="renurture"),
    path("<int:pk>/first-contact/", views.FirstContactView.as_view(), name="first_contact"),
    path("<int:pk>/convert/", views.ConvertView.as_view(), name="convert"),
    path("<int:pk>/return/", views.ReturnView.as_view(), name="return"),
    path("<int:pk>/disqualify/", views.DisqualifyView.as_view(), name="disqualify"),
    # Working a lead: activities, hold/resume, deal stages
    path("<int:pk>/activities/new/", working.LogActivityView.as_view(), name="log_activity"),
    path("<int:pk>/hold/", working.HoldView.as_view(), name="hold"),
    path("<int:pk>/resume/", working.resume, name="resume"),
    path("<int:pk>/deal/stage/", working.DealStageView.as_view(), name="deal_stage"),
    path("<int:pk>/deal/edit/", working.DealEditView.as_view(), name="deal_edit"),
    path("deals/", deals.DealBoardView.as_view(), name="deals"),
    path("deals/closed/", deals.ClosedDealsView.as_view(), name="deals_closed"),
    # Monthly targets
    path("targets/", target_views.TargetsView.as_view(), name="targets"),
    path("targets/mine/", target_views.MyTargetsView.as_view(), name="my_targets"),
    # Teams, capacity, assignment
    path("teams/", teams.TeamsView.as_view(), name="teams"),
    path("teams/<int:pk>/", teams.TeamUpdateView.as_view(), name="team_edit"),
    path("teams/reps/<int:user_id>/", teams.RepProfileUpdateView.as_view(), name="rep_edit"),
    path("return-reasons/", teams.ReturnReasonsView.as_view(), name="return_reasons"),
    path("return-reasons/<int:pk>/toggle/", teams.return_reason_toggle, name="return_reason_toggle"),
    path("me/away/", teams.away_toggle, name="away_toggle"),
    path("<int:pk>/assign/", teams.AssignView.as_view(), name="assign"),
]
