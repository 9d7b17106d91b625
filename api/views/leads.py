"""Leads over the API: list, read with timeline, capture, set the score, moves by name, assignment."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns.capture import LeadData, lead_capture
from campaigns.lead_lists import marketing_leads
from campaigns.models import Campaign
from campaigns.scoring import lead_override_score
from leads import queries, services
from leads.models import Deal, Lead
from people.roles import ANY_ROLE, MARKETING_SIDE, Role, sales_reps

from ..access import leads_visible_to
from ..errors import Conflict
from ..moves import API_MOVES, MoveSerializer, check_actor, moves_open_to
from ..pagination import LeadKeysetPagination
from ..serializers import (
    AssignmentSerializer,
    CaptureResultSerializer,
    LeadCaptureSerializer,
    LeadDetailSerializer,
    LeadScoreSerializer,
    LeadSerializer,
)


class LeadFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=Lead.Status.choices, required=False)
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False)
    search = serializers.CharField(max_length=100, required=False, help_text="Part of the name, email or company.")


class LeadViewSet(viewsets.GenericViewSet):
    """Leads. Marketing and managers list every lead, a rep the queue and their own; any role reads
    a lead (as its page)."""

    allowed_roles = ANY_ROLE
    lookup_value_converter = "int"
    action_roles = {"create": MARKETING_SIDE, "partial_update": MARKETING_SIDE, "assignment": (Role.MANAGERS,)}
    pagination_class = LeadKeysetPagination
    serializer_class = LeadSerializer
    queryset = Lead.objects.select_related("campaign", "owner")

    def lead(self, pk) -> Lead:
        return get_object_or_404(self.queryset, pk=pk)

    def detail_response(self, lead: Lead, *, status_code: int = status.HTTP_200_OK) -> Response:
        before = self.request.query_params.get("before", "")
        context = {
            "request": self.request,
            "moves": moves_open_to(lead, self.request.user),
            "deadlines": lead.deadlines.order_by("-starts_at", "-id").select_related("owner"),
            "deal": Deal.objects.select_related("owner").filter(lead=lead).first(),
            "timeline": queries.timeline_page(lead, before=int(before) if before.isdigit() else None),
        }
        return Response(LeadDetailSerializer(lead, context=context).data, status=status_code)

    @extend_schema(parameters=[LeadFilters])
    def list(self, request):
        filters = LeadFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = dict(filters.validated_data)
        owner = chosen.pop("owner", None)
        leads = marketing_leads(**chosen)
        if owner is not None:
            leads = leads.filter(owner=owner)
        page = self.paginate_queryset(leads_visible_to(request.user, leads))
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    @extend_schema(
        responses=LeadDetailSerializer,
        parameters=[OpenApiParameter("before", int, description="The timeline page after this event id.")],
    )
    def retrieve(self, request, pk=None):
        return self.detail_response(self.lead(pk))

    @extend_schema(
        request=LeadCaptureSerializer,
        responses={201: CaptureResultSerializer, 200: CaptureResultSerializer},
        description="Capture a lead as the page's form does: a known address is captured again (200) and keeps "
        "its owner and status. An archived campaign takes no more leads (409).",
    )
    def create(self, request):
        given = LeadCaptureSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        campaign = data.pop("campaign")
        if campaign.is_archived:
            raise Conflict(f"“{campaign.name}” is archived and takes no more leads.", "campaign_archived")
        result = lead_capture(campaign=campaign, data=LeadData(**data), actor=request.user)
        body = CaptureResultSerializer({"created": result.created, "lead": result.lead}).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        request=LeadScoreSerializer,
        responses=LeadDetailSerializer,
        description="Set the score by hand, with a reason for the timeline (the scoring rules then leave it be). "
        "A lead's status changes only by its moves.",
    )
    def partial_update(self, request, pk=None):
        lead = self.lead(pk)
        given = LeadScoreSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        if lead.status == Lead.Status.MERGED:
            raise Conflict("This lead was merged into another; set the score of that one.", "merged")
        lead = lead_override_score(
            lead=lead,
            actor=request.user,
            score_value=given.validated_data["score"],
            reason=given.validated_data["reason"],
        )
        return self.detail_response(self.lead(lead.pk))

    @extend_schema(
        request=MoveSerializer,
        responses=LeadDetailSerializer,
        description="Make a move of the lead's lifecycle by name: "
        + ", ".join(f"`{name}`" for name in API_MOVES)
        + ". 403 when the move is not yours to make (your role, or a lead another rep owns), 409 when the lead's "
        "state does not allow it (or another rep claimed it first).",
    )
    @action(detail=True, methods=["post"])
    def moves(self, request, pk=None):
        lead = self.lead(pk)
        given = MoveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        inputs = dict(given.validated_data)
        move = API_MOVES[inputs.pop("move")]
        check_actor(move, lead, request.user)
        move.perform(lead, request.user, inputs)
        return self.detail_response(self.lead(lead.pk))

    @extend_schema(
        request=AssignmentSerializer,
        responses=LeadDetailSerializer,
        description="A manager gives a waiting lead to a rep, or takes it from one rep to another; the rep's "
        "capacity applies (409 when full).",
    )
    @action(detail=True, methods=["post"])
    def assignment(self, request, pk=None):
        lead = self.lead(pk)
        given = AssignmentSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        rep = sales_reps().filter(pk=given.validated_data["rep"]).first()
        if rep is None:
            raise serializers.ValidationError({"rep": ["Leads can only be assigned to active sales reps."]})
        services.lead_assign(lead=lead, rep=rep, actor=request.user)
        return self.detail_response(self.lead(lead.pk))
