"""SLA deadlines over the API: a manager's all, everyone else's their own."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from leads.models import Lead
from people.roles import ANY_ROLE
from sla.models import Deadline

from ..access import deadlines_visible_to
from ..pagination import IdCursorPagination
from ..serializers import DeadlineSerializer

STATES = {
    "running": {"met_at__isnull": True, "cancelled_at__isnull": True},
    "breached": {"breached_at__isnull": False},
    "met": {"met_at__isnull": False},
    "cancelled": {"cancelled_at__isnull": False},
    "paused": {"paused_at__isnull": False, "met_at__isnull": True, "cancelled_at__isnull": True},
}


class DeadlineFilters(serializers.Serializer):
    lead = serializers.PrimaryKeyRelatedField(queryset=Lead.objects.all(), required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False)
    kind = serializers.ChoiceField(choices=Deadline.Kind.choices, required=False)
    state = serializers.ChoiceField(
        choices=list(STATES),
        required=False,
        help_text="running (breached ones too, until met), breached (ever), met, cancelled, paused (on hold).",
    )


@extend_schema(parameters=[DeadlineFilters])
class DeadlineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    allowed_roles = ANY_ROLE
    lookup_value_converter = "int"
    serializer_class = DeadlineSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self):
        filters = DeadlineFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = filters.validated_data
        deadlines = deadlines_visible_to(self.request.user)
        for name in ("lead", "owner", "kind"):
            if name in chosen:
                deadlines = deadlines.filter(**{name: chosen[name]})
        if "state" in chosen:
            deadlines = deadlines.filter(**STATES[chosen["state"]])
        return deadlines
