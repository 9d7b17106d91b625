from django.urls import path

from .views import leads as views

app_name = "leads"
urlpatterns = [
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("mine/", views.MyLeadsView.as_view(), name="mine"),
    path("<int:pk>/", views.LeadDetailView.as_view(), name="detail"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/qualify/", views.QualifyView.as_view(), name="qualify"),
    path("<int:pk>/hand-off/", views.HandOffView.as_view(), name="hand_off"),
    path("<int:pk>/renurture/", views.RenurtureView.as_view(), name="renurture"),
    path("<int:pk>/first-contact/", views.FirstContactView.as_view(), name="first_contact"),
    path("<int:pk>/convert/", views.ConvertView.as_view(), name="convert"),
    path("<int:pk>/return/", views.ReturnView.as_view(), name="return"),
    path("<int:pk>/disqualify/", views.DisqualifyView.as_view(), name="disqualify"),
    # Working a lead: activities, hold/resume, deal stages
    # Monthly targets
    # Teams, capacity, assignment
]
