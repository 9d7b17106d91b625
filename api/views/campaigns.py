"""Campaigns over the API: marketing's and managers', as the campaign pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from campaigns import queries
from campaigns.models import Campaign
from people.roles import MARKETING_SIDE

from ..pagination import IdCursorPagination
from ..serializers import CampaignSerializer, CampaignWriteSerializer


class CampaignFilters(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, help_text="Part of the name.")
    channel = serializers.ChoiceField(choices=Campaign.Channel.choices, required=False)
    status = serializers.ChoiceField(
        choices=[*Campaign.Status.choices, (queries.ANY_STATUS, "Any, archived too")],
        required=False,
        help_text="Archived campaigns are left out unless asked for (by `archived` or `any`).",
    )


@extend_schema(parameters=[CampaignFilters])
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Campaigns with their lead counts (from the tallies). Writes go through the campaign form's
    checks; a new campaign belongs to whoever creates it. Archiving stays on the page."""

    allowed_roles = MARKETING_SIDE
    lookup_value_converter = "int"
    pagination_class = IdCursorPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if self.action != "list":
            return queries.campaign_list(status=queries.ANY_STATUS)
        filters = CampaignFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return queries.campaign_list(**{"status": queries.NOT_ARCHIVED, **filters.validated_data})

    def get_serializer_class(self):
        return CampaignWriteSerializer if self.action in ("create", "partial_update") else CampaignSerializer

    @extend_schema(request=CampaignWriteSerializer, responses={201: CampaignSerializer})
    def create(self, request, *args, **kwargs):
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        campaign = given.save()
        return Response(
            CampaignSerializer(self.get_queryset().get(pk=campaign.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=CampaignWriteSerializer, responses=CampaignSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        super().update(request, *args, **kwargs)
        return self.retrieve(request, *args, **kwargs)
