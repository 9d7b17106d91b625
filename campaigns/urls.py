from django.urls import path

from .views import campaigns, imports, intake, leads, scoring

app_name = "campaigns"
urlpatterns = [
    # Campaigns: list, create, edit, archive, results
    path("", campaigns.CampaignListView.as_view(), name="list"),
    path("new/", campaigns.CampaignCreateView.as_view(), name="create"),
    path("<int:pk>/", campaigns.CampaignDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", campaigns.CampaignUpdateView.as_view(), name="edit"),
    path("<int:pk>/archive/", campaigns.archive, name="archive"),
    path("<int:pk>/unarchive/", campaigns.unarchive, name="unarchive"),
    path("<int:pk>/leads/new/", campaigns.LeadCreateView.as_view(), name="add_lead"),
    # CSV import
    path("<int:pk>/import/", imports.ImportUploadView.as_view(), name="import"),
    path("imports/<int:pk>/", imports.ImportDetailView.as_view(), name="import_detail"),
    path("imports/<int:pk>/confirm/", imports.import_confirm_view, name="import_confirm"),
    path("imports/<int:pk>/errors.csv", imports.import_errors_view, name="import_errors"),
    # Web-to-lead intake
    path("intake/<slug:intake_key>/leads/", intake.intake, name="intake"),
    path("<int:pk>/intake/", intake.IntakeSettingsView.as_view(), name="intake_settings"),
    # Marketing's lead list, bulk hand-off, returned-by-sales inbox
    path("leads/", leads.LeadListView.as_view(), name="leads"),
    path("leads/hand-off/", leads.BulkHandOffView.as_view(), name="bulk_hand_off"),
    path("returned/", leads.ReturnedInboxView.as_view(), name="returned"),
    # Scoring rules, score override, merge
    path("scoring/", scoring.ScoringView.as_view(), name="scoring"),
    path("scoring/rules/<int:pk>/edit/", scoring.ScoringRuleUpdateView.as_view(), name="rule_edit"),
    path("scoring/rules/<int:pk>/toggle/", scoring.rule_toggle, name="rule_toggle"),
    path("leads/<int:pk>/score/", scoring.ScoreOverrideView.as_view(), name="score_override"),
    path("leads/<int:pk>/merge/", scoring.MergeView.as_view(), name="merge"),
]
