"""Deals over the API: a rep's own, a manager's all; stage moves through the deal service."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from leads.deals import deal_move, may_move
from leads.models import Deal
from people.roles import SALES_SIDE

from ..access import deals_visible_to
from ..pagination import IdCursorPagination
from ..serializers import DealSerializer, DealStageSerializer


class DealFilters(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Deal.Stage.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False)


class DealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    allowed_roles = SALES_SIDE
    lookup_value_converter = "int"
    serializer_class = DealSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self):
        deals = deals_visible_to(self.request.user)
        if self.action != "list":
            return deals
        filters = DealFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return deals.filter(**filters.validated_data)

    @extend_schema(parameters=[DealFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=DealStageSerializer,
        responses=DealSerializer,
        description="Move an open deal to another stage; won and lost close it, lost needs `lost_reason`. "
        "Only its rep or a manager (403); a closed deal or the same stage is a 409.",
    )
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        deal = self.get_object()
        if not may_move(deal, request.user):
            raise PermissionDenied("Only the rep who owns this deal, or a manager, can move it.")
        given = DealStageSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        deal = deal_move(deal=deal, actor=request.user, **given.validated_data)
        return Response(DealSerializer(deals_visible_to(request.user).get(pk=deal.pk)).data)
