"""Managers write the SLA in Handoff's own pages: the policy in force, its history, drafts of a change,
and the heads' signatures that put a draft in force (see sla.agreement)."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Fieldset, Layout, Row
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from common.localtime import local_midnight
from people.roles import Role, RoleRequiredMixin, role_required
from sla import agreement
from sla.calendar import zone_get
from sla.models import Department, EscalationStep, PolicyDraft, SlaPolicy

STEP_FIELDS = [f"step_{position}" for position in range(1, len(EscalationStep.values) + 1)]
TIER_FIELDS = {kind: [f"{kind}_hours_{tier}" for tier in SlaPolicy.TIERS] for kind in ("claim", "first_contact")}


def _tier_row(kind: str, label: str) -> Row:
    return Row(
        HTML(f'<div class="col-md-3 pt-md-4 fw-semibold">{label}</div>'),
        *(Column(name, css_class="col-md-3") for name in TIER_FIELDS[kind]),
    )


class PolicyForm(forms.ModelForm):
    """A draft's values and start, prefilled from the policy in force (or the draft); the escalation
    steps as ordered selects. Saving goes through `sla.agreement`, never `save()`."""

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
        self.fields["starts_at"] = forms.DateTimeField(
            label="Starts at",
            required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            help_text=f"In your time zone ({timezone.get_current_timezone_name()}). It starts then if both heads "
            "have signed by then, else as soon as they have; empty: as soon as both have signed.",
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("name"),
            Fieldset(
                "Sales commits to: claim and first contact, by the lead's priority",
                _tier_row("claim", "Claim after the handoff"),
                _tier_row("first_contact", "First contact after the claim"),
            ),
            Fieldset(
                "Sales commits to: escalation after a sales breach, in this order",
                Row(*(Column(name, css_class="col-md-4") for name in STEP_FIELDS)),
            ),
            Fieldset(
                "Marketing commits to: returned-lead follow-up and the acceptance target",
                Row(
                    Column("follow_up_days", css_class="col-md-6"),
                    Column("acceptance_target_percent", css_class="col-md-6"),
                ),
            ),
            Fieldset("Both sides", Field("warning_percent")),
            Field("note"),
            Field("starts_at"),
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

    def clean_starts_at(self):
        starts_at = self.cleaned_data.get("starts_at")
        now = timezone.now()
        if starts_at is None:
            return now
        if starts_at < now - datetime.timedelta(minutes=1):
            raise ValidationError("That moment has passed: leave it empty to start as soon as both heads have signed.")
        return starts_at

    def values(self) -> dict:
        """The draft's policy values, for `sla.agreement`."""
        fields = [*self.Meta.fields, "escalation_steps"]
        return {name: self.cleaned_data[name] for name in fields}


def next_monday() -> datetime.datetime:
    """Monday 00:00 in the site's zone after today: when a change usually starts."""
    zone = zone_get(settings.TIME_ZONE)
    today = timezone.localdate(timezone=zone)
    return local_midnight(today + datetime.timedelta(days=7 - today.weekday()), zone)


class PolicyView(RoleRequiredMixin, TemplateView):
    """The policy in force and every version before it, newest first, with the deadlines each set;
    the drafts waiting for signatures or their start; who heads each department."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "sla/policies/detail.html"

    def get_context_data(self, **kwargs):
        versions = list(
            SlaPolicy.objects.select_related("created_by")
            .annotate(deadline_count=Count("deadlines"))
            .order_by("-version")
        )
        current = versions[0] if versions else SlaPolicy.current()
        drafts = PolicyDraft.objects.filter(status=PolicyDraft.Status.DRAFT).select_related("created_by")
        return super().get_context_data(
            policy=current,
            versions=versions or [current],
            drafts=drafts,
            heads=agreement.heads(),
            **kwargs,
        )


class DraftFormView(RoleRequiredMixin, FormView):
    """Write a draft (any manager), or edit one: an edit clears the signatures given so far."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "sla/policies/form.html"
    form_class = PolicyForm

    @cached_property
    def draft(self) -> PolicyDraft | None:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(PolicyDraft, pk=self.kwargs["pk"], status=PolicyDraft.Status.DRAFT)

    @cached_property
    def current(self) -> SlaPolicy:
        return SlaPolicy.current()

    def get_initial(self):
        if self.draft is None:
            return {**PolicyForm.initial_from(self.current), "starts_at": next_monday()}
        initial = dict(self.draft.values)
        initial.update(zip(STEP_FIELDS, initial.pop("escalation_steps"), strict=False))
        return {**initial, "starts_at": self.draft.starts_at}

    def get_context_data(self, **kwargs):
        return super().get_context_data(current=self.current, draft=self.draft, **kwargs)

    def form_valid(self, form):
        try:
            if self.draft is None:
                draft = agreement.draft_create(
                    actor=self.request.user, values=form.values(), starts_at=form.cleaned_data["starts_at"]
                )
            else:
                draft = agreement.draft_edit(
                    draft=self.draft,
                    actor=self.request.user,
                    values=form.values(),
                    starts_at=form.cleaned_data["starts_at"],
                )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, messages_ in errors.items():
                form.add_error(field if field in form.fields else None, messages_)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Draft saved (revision {draft.revision}). It needs the signatures of both heads on this revision; "
            "it starts at its start time once both have signed.",
        )
        return redirect(draft)


class DraftView(RoleRequiredMixin, TemplateView):
    """A draft: its values with each side's commitments, its signatures and its record."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "sla/policies/draft.html"

    def get_context_data(self, **kwargs):
        draft = get_object_or_404(
            PolicyDraft.objects.select_related("created_by", "policy", "based_on"), pk=kwargs["pk"]
        )
        heads = agreement.heads()
        signatures = agreement.current_signatures(draft)
        return super().get_context_data(
            draft=draft,
            policy=SlaPolicy(**draft.values, version=0),
            heads=heads,
            signatures=[(department, heads.get(department), signatures.get(department)) for department in Department],
            may_sign=[
                department
                for department in Department
                if heads.get(department) == self.request.user and department not in signatures
            ],
            events=draft.events.select_related("actor"),
            **kwargs,
        )


@require_POST
@role_required(Role.MANAGERS)
def draft_sign(request, pk):
    """A head signs the revision the page showed them (its hash is in the form)."""
    draft = get_object_or_404(PolicyDraft, pk=pk)
    department = request.POST.get("department", "")
    try:
        agreement.draft_sign(
            draft=draft, signer=request.user, department=department, content_hash=request.POST.get("content_hash", "")
        )
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, f"Signed for {Department(department).label.lower()}.")
    return redirect(draft)
