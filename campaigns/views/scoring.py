"""Scoring rules and the MQL threshold, a score set by hand, and merging duplicate leads."""

from django import forms
from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView, UpdateView

from leads.duplicates import possible_duplicates
from leads.models import Lead
from leads.transitions import TransitionError
from people.roles import MARKETING_SIDE, RoleRequiredMixin, role_required

from ..capture import lead_merge, normalise_email
from ..models import QualificationPolicy, ScoringRule
from ..scoring import lead_override_score


class ScoringRuleForm(forms.ModelForm):
    class Meta:
        model = ScoringRule
        fields = ["kind", "value", "points", "is_active"]


class ThresholdForm(forms.ModelForm):
    class Meta:
        model = QualificationPolicy
        fields = ["mql_threshold"]

    def clean_mql_threshold(self):
        threshold = self.cleaned_data["mql_threshold"]
        if threshold > 100:
            raise forms.ValidationError("The threshold is a score between 0 and 100.")
        return threshold


class ScoreOverrideForm(forms.Form):
    score = forms.IntegerField(min_value=0, max_value=100)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(forms.Form):
    """Pick the lead to keep from the possible duplicates, or name it by its address."""

    into = forms.ModelChoiceField(
        queryset=Lead.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        label="Keep one of the possible duplicates",
        help_text="Live leads with the same name and company.",
    )
    into_email = forms.EmailField(
        label="Keep the lead with this email",
        required=False,
        help_text="This lead is merged into that one: its history moves to that lead's timeline.",
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        self.lead = lead
        super().__init__(*args, **kwargs)
        candidates = possible_duplicates(lead)
        self.fields["into"].queryset = candidates
        self.fields["into"].label_from_instance = lambda other: (
            f"{other.full_name} · {other.email} · {other.campaign.name} · {other.get_status_display()}"
        )
        if candidates:
            self.fields["into_email"].label = "Or keep the lead with this email"
        else:
            del self.fields["into"]

    def clean_into_email(self):
        email = self.cleaned_data["into_email"]
        if not email:
            return email
        email = normalise_email(email)
        into = Lead.objects.filter(email=email, merged_into__isnull=True).first()
        if into is None:
            raise forms.ValidationError("No lead has that email.")
        if into.pk == self.lead.pk:
            raise forms.ValidationError("That is this lead; choose the one to keep.")
        self.into = into
        return email

    def clean(self):
        data = super().clean()
        if data.get("into"):
            self.into = data["into"]
        elif not data.get("into_email") and not self.errors:
            field = "into" if "into" in self.fields else "into_email"
            self.add_error(field, "Choose the lead to keep." if field == "into" else "This field is required.")
        return data


class ScoringView(RoleRequiredMixin, TemplateView):
    """The rules, the threshold, and a form to add a rule."""

    allowed_roles = MARKETING_SIDE
    template_name = "campaigns/scoring/rules.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("rule_form", ScoringRuleForm())
        kwargs.setdefault("threshold_form", ThresholdForm(instance=QualificationPolicy.current()))
        return super().get_context_data(rules=ScoringRule.objects.all(), **kwargs)

    def post(self, request, *args, **kwargs):
        if "mql_threshold" in request.POST:
            form = ThresholdForm(request.POST)
            if form.is_valid():
                # A new row, not an edit: the history of thresholds stays.
                form.save()
                messages.success(request, f"Leads now become MQLs at a score of {form.instance.mql_threshold}.")
                return redirect("campaigns:scoring")
            return self.render_to_response(self.get_context_data(threshold_form=form))
        form = ScoringRuleForm(request.POST)
        if form.is_valid():
            form.save()
            messages.success(request, f"Rule added: {form.instance}.")
            return redirect("campaigns:scoring")
        return self.render_to_response(self.get_context_data(rule_form=form))


class ScoringRuleUpdateView(RoleRequiredMixin, SuccessMessageMixin, UpdateView):
    allowed_roles = MARKETING_SIDE
    model = ScoringRule
    form_class = ScoringRuleForm
    template_name = "campaigns/scoring/rule_form.html"
    success_url = reverse_lazy("campaigns:scoring")
    success_message = "Rule saved."


class ScoreOverrideView(RoleRequiredMixin, FormView):
    """A marketer sets the score by hand; the reason goes on the timeline."""

    allowed_roles = MARKETING_SIDE
    form_class = ScoreOverrideForm
    template_name = "campaigns/scoring/lead_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.lead = get_object_or_404(Lead, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"score": self.lead.score}

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead=self.lead, title="Set the score by hand", button="Save score", **kwargs)

    def form_valid(self, form):
        lead_override_score(
            lead=self.lead,
            actor=self.request.user,
            score_value=form.cleaned_data["score"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(self.request, f"Score of {self.lead.full_name} set to {form.cleaned_data['score']}.")
        return redirect(self.lead)


class MergeView(RoleRequiredMixin, FormView):
    """Merge this lead (the duplicate) into another one."""

    allowed_roles = MARKETING_SIDE
    form_class = MergeForm
    template_name = "campaigns/scoring/lead_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.lead = get_object_or_404(Lead, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "lead": self.lead}

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead=self.lead, title="Merge into another lead", button="Merge", **kwargs)

    def form_valid(self, form):
        try:
            into = lead_merge(duplicate=self.lead, into=form.into, actor=self.request.user)
        except TransitionError as exc:
            messages.error(self.request, str(exc))
            return redirect(self.lead)
        messages.success(self.request, f"{self.lead.email} merged into {into.full_name}; every event is kept.")
        return redirect(into)


@require_POST
@role_required(*MARKETING_SIDE)
def rule_toggle(request, pk):
    rule = get_object_or_404(ScoringRule, pk=pk)
    rule.is_active = not rule.is_active
    rule.save(update_fields=["is_active"])
    messages.success(request, f"Rule {'switched on' if rule.is_active else 'switched off'}: {rule}.")
    return redirect("campaigns:scoring")
