"""Managers write the SLA in Handoff's own pages: the policy in force, its history, and a new version."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Fieldset, Layout, Row
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import model_to_dict
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from people.roles import Role, RoleRequiredMixin
from sla.models import EscalationStep, SlaPolicy
from sla.policies import policy_publish

STEP_FIELDS = [f"step_{position}" for position in range(1, len(EscalationStep.values) + 1)]
TIER_FIELDS = {kind: [f"{kind}_hours_{tier}" for tier in SlaPolicy.TIERS] for kind in ("claim", "first_contact")}


def _tier_row(kind: str, label: str) -> Row:
    return Row(
        HTML(f'<div class="col-md-3 pt-md-4 fw-semibold">{label}</div>'),
        *(Column(name, css_class="col-md-3") for name in TIER_FIELDS[kind]),
    )


class PolicyForm(forms.ModelForm):
    """A new version's values, prefilled from the policy in force; the escalation steps as ordered
    selects. Saving goes through `policy_publish`, never `save()`."""

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            *TIER_FIELDS["claim"],
            *TIER_FIELDS["first_contact"],
            "follow_up_days",
            "acceptance_target_percent",
            "warning_percent",
            "note",
        ]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    @classmethod
    def initial_from(cls, policy: SlaPolicy) -> dict:
        """The values of `policy` to start from; the reason for the change is the new version's own."""
        initial = model_to_dict(policy, fields=cls.Meta.fields)
        initial.update(zip(STEP_FIELDS, policy.escalation_steps, strict=False))
        initial["note"] = ""
        return initial

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for position, name in enumerate(STEP_FIELDS, start=1):
            self.fields[name] = forms.ChoiceField(
                label=f"Step {position}", required=False, choices=[("", "none"), *EscalationStep.choices]
            )
        for names in TIER_FIELDS.values():
            for name, tier in zip(names, SlaPolicy.TIERS, strict=True):
                self.fields[name].label = f"{tier.capitalize()} (business hours)"
                self.fields[name].help_text = ""
        self.fields["note"].required = True
        self.fields["note"].label = "Why this change"
        self.fields["note"].help_text = "Shown in the policy history."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("name"),
            Fieldset(
                "Sales deadlines, by the lead's priority",
                _tier_row("claim", "Claim after the handoff"),
                _tier_row("first_contact", "First contact after the claim"),
            ),
            Fieldset(
                "Marketing and both sides",
                Row(
                    Column("follow_up_days", css_class="col-md-4"),
                    Column("acceptance_target_percent", css_class="col-md-4"),
                    Column("warning_percent", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Escalation after a sales breach, in this order",
                Row(*(Column(name, css_class="col-md-4") for name in STEP_FIELDS)),
            ),
            Field("note"),
        )

    def clean(self):
        cleaned = super().clean()
        steps: list[str] = []
        seen: dict[str, int] = {}
        for position, name in enumerate(STEP_FIELDS, start=1):
            step = cleaned.get(name)
            if not step:
                continue
            if len(steps) < position - 1:
                self.add_error(name, f"Step {position} needs step {position - 1} first: fill the steps in order.")
            elif step in seen:
                self.add_error(name, f"“{EscalationStep(step).label}” is already step {seen[step]}.")
            else:
                seen[step] = position
                steps.append(step)
        cleaned["escalation_steps"] = steps
        return cleaned

    def values(self) -> dict:
        """The new version's values, for `policy_publish`."""
        fields = [*self.Meta.fields, "escalation_steps"]
        return {name: self.cleaned_data[name] for name in fields}


class PolicyView(RoleRequiredMixin, TemplateView):
    """The policy in force and every version before it, newest first, with the deadlines each set."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "sla/policies/detail.html"

    def get_context_data(self, **kwargs):
        versions = list(
            SlaPolicy.objects.select_related("created_by")
            .annotate(deadline_count=Count("deadlines"))
            .order_by("-version")
        )
        current = versions[0] if versions else SlaPolicy.current()
        return super().get_context_data(policy=current, versions=versions or [current], **kwargs)


class PolicyPublishView(RoleRequiredMixin, FormView):
    allowed_roles = (Role.MANAGERS,)
    template_name = "sla/policies/form.html"
    form_class = PolicyForm

    @cached_property
    def current(self) -> SlaPolicy:
        return SlaPolicy.current()

    def get_initial(self):
        return PolicyForm.initial_from(self.current)

    def get_context_data(self, **kwargs):
        return super().get_context_data(current=self.current, **kwargs)

    def form_valid(self, form):
        try:
            policy = policy_publish(actor=self.request.user, **form.values())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Version {policy.version} is in force. It applies to new deadlines only: "
            "deadlines already running keep the time they were given.",
        )
        return redirect("sla_policy")
