from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from .errors import not_found
from .views import tokens
from .views.campaigns import CampaignViewSet
from .views.deadlines import DeadlineViewSet
from .views.deals import DealViewSet
from .views.docs import DocsView, SchemaView
from .views.leads import LeadViewSet

router = SimpleRouter(use_regex_path=False)
router.register("leads", LeadViewSet, basename="lead")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("deadlines", DeadlineViewSet, basename="deadline")
router.register("deals", DealViewSet, basename="deal")

app_name = "api"
urlpatterns = [
    # The page for people: their tokens.
    path("tokens/", tokens.TokensView.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.revoke, name="token_revoke"),
    # The API, version 1.
    path("v1/schema/", SchemaView.as_view(), name="schema"),
    path("v1/docs/", DocsView.as_view(), name="docs"),
    path("v1/", include(router.urls)),
    re_path(r"^v1/", not_found),
]
