"""What the API reads and writes. Input is checked by the same forms the pages use where there is one
(a campaign, a captured lead), so a rule lives in one place; the services have the last word."""

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.forms import CampaignForm, LeadForm
from campaigns.models import Campaign
from leads.models import Deal, Lead, LeadEvent
from people.names import person_name
from sla.models import Deadline


def form_errors(form: forms.BaseForm) -> dict[str, list[str]]:
    """A Django form's errors as the API's `fields` ({"email": ["Enter a valid email address."]})."""
    return {
        ("non_field_errors" if name == "__all__" else name): [error["message"] for error in errors]
        for name, errors in form.errors.get_json_data().items()
    }


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return person_name(user)


class CampaignRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


# --- Leads -----------------------------------------------------------------------------------
class LeadSerializer(serializers.ModelSerializer):
    campaign = CampaignRefSerializer(read_only=True)
    owner = PersonSerializer(read_only=True, allow_null=True)
    priority = serializers.CharField(read_only=True, help_text="hot, warm or cold, from the score.")

    class Meta:
        model = Lead
        fields = [
            "id",
            "full_name",
            "email",
            "company",
            "phone",
            "job_title",
            "company_size",
            "country",
            "source",
            "status",
            "score",
            "score_overridden",
            "priority",
            "hold_reason",
            "campaign",
            "owner",
            "created_at",
            "status_changed_at",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor = PersonSerializer(read_only=True, allow_null=True)
    actor_label = serializers.CharField(read_only=True, help_text="Who acted, or “Handoff (automatic)”.")
    lead = serializers.IntegerField(source="lead_id", read_only=True, help_text="A merged-away lead's events too.")

    class Meta:
        model = LeadEvent
        fields = [
            "id",
            "lead",
            "kind",
            "actor",
            "actor_label",
            "from_status",
            "to_status",
            "note",
            "data",
            "created_at",
        ]
        read_only_fields = fields


class DeadlineSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True, allow_null=True)
    lead = serializers.IntegerField(source="lead_id", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Deadline
        fields = [
            "id",
            "lead",
            "kind",
            "state",
            "priority",
            "owner",
            "starts_at",
            "given_due_at",
            "due_at",
            "warn_at",
            "warned_at",
            "paused_at",
            "met_at",
            "breached_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    def get_state(self, deadline: Deadline) -> str:
        """met, cancelled, paused, breached (still to be met) or running."""
        if deadline.met_at is not None:
            return "met"
        if deadline.cancelled_at is not None:
            return "cancelled"
        if deadline.paused_at is not None:
            return "paused"
        return "breached" if deadline.breached_at is not None else "running"


class DealSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True)
    lead = serializers.IntegerField(source="lead_id", read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "lead",
            "value",
            "currency",
            "owner",
            "stage",
            "expected_close_date",
            "lost_reason",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


class LeadDetailSerializer(LeadSerializer):
    """A lead with its deadlines, deal, the moves open to the caller now, and the newest page of its
    timeline (`timeline_older`: pass it as `?before=` for the next page)."""

    moves = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    deal = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    timeline_older = serializers.SerializerMethodField()

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "moves", "deadlines", "deal", "timeline", "timeline_older"]
        read_only_fields = fields

    def get_moves(self, lead: Lead) -> list[str]:
        return self.context["moves"]

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, lead: Lead):
        return DeadlineSerializer(self.context["deadlines"], many=True).data

    @extend_schema_field(DealSerializer(allow_null=True))
    def get_deal(self, lead: Lead):
        deal = self.context["deal"]
        return None if deal is None else DealSerializer(deal).data

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, lead: Lead):
        return EventSerializer(self.context["timeline"].events, many=True).data

    def get_timeline_older(self, lead: Lead) -> int | None:
        return self.context["timeline"].older


class LeadCaptureSerializer(serializers.Serializer):
    """A lead captured into a campaign, as the page's form takes it (LeadForm)."""

    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all())
    full_name = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=254)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    job_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    company_size = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        form = LeadForm(data={name: value for name, value in attrs.items() if name != "campaign"})
        if not form.is_valid():
            raise serializers.ValidationError(form_errors(form))
        return {"campaign": attrs["campaign"], **form.cleaned_data}


class CaptureResultSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: the address was already a lead, now captured again.")
    lead = LeadSerializer()


class LeadScoreSerializer(serializers.Serializer):
    """The one field of a lead people edit by hand: its score, with a reason for the timeline."""

    score = serializers.IntegerField(min_value=0, max_value=100)
    reason = serializers.CharField(max_length=500)


class AssignmentSerializer(serializers.Serializer):
    rep = serializers.IntegerField(help_text="The id of an active sales rep.")


# --- Campaigns -------------------------------------------------------------------------------
class CampaignSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True)
    lead_count = serializers.IntegerField(read_only=True, required=False)
    handed_off_count = serializers.IntegerField(read_only=True, required=False)
    converted_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Campaign
        fields = [
            "id",
            *CampaignForm._meta.fields,
            "owner",
            "archived_at",
            "created_at",
            "updated_at",
            "lead_count",
            "handed_off_count",
            "converted_count",
        ]
        read_only_fields = fields


class CampaignWriteSerializer(serializers.ModelSerializer):
    """A campaign as the page's form (CampaignForm) takes it: the form's checks apply, whole."""

    class Meta:
        model = Campaign
        fields = CampaignForm._meta.fields

    def validate(self, attrs):
        # What is not sent keeps its value: the campaign's own, or a new campaign's defaults (budget 0, planned).
        instance = self.instance or Campaign(owner=self.context["request"].user)
        current = forms.model_to_dict(instance, fields=CampaignForm._meta.fields)
        self.form = CampaignForm(data={**current, **attrs}, instance=instance)
        if not self.form.is_valid():
            raise serializers.ValidationError(form_errors(self.form))
        return attrs

    def create(self, validated_data):
        return self.form.save()

    def update(self, instance, validated_data):
        return self.form.save()


# --- Deals -----------------------------------------------------------------------------------
class DealStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Deal.Stage.choices)
    lost_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["stage"] == Deal.Stage.LOST and not attrs["lost_reason"].strip():
            raise serializers.ValidationError({"lost_reason": ["Say why the deal was lost."]})
        return attrs
