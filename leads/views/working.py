"""Working a lead from its page: log activities, put it on hold and resume it, move its deal's stage.

Only the lead's owner or a manager gets past the door (others get 403, nothing written); the
services re-check everything under the row lock. A refusal or bad input comes back on the form
with what was typed, never as an error page.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from common.daterange import DayField, MomentField
from people.navigation import next_or
from people.roles import SALES_SIDE, RoleRequiredMixin, role_required

from .. import services
from ..activities import activity_log, may_work, work_refusal
from ..deals import CLOSED_STAGES, LOST_REASON_MAX, deal_edit, deal_move, may_move
from ..models import Activity, Deal, Lead
from ..transitions import TransitionError


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=Activity.Kind.choices, initial=Activity.Kind.CALL)
    outcome = forms.CharField(
        max_length=Activity._meta.get_field("outcome").max_length,
        required=False,
        help_text="E.g. reached, voicemail, sent pricing.",
    )
    note = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_step_at = MomentField(label="Next step", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["next_step_at"].help_text = f"Optional; your time zone ({timezone.get_current_timezone_name()})."


class QuickLogForm(ActivityForm):
    """The activity form as a row of My leads shows it: a call, email or meeting with its outcome and
    next step (no note). It posts to LogActivityView, which reads it with ActivityForm."""

    note = None

    def __init__(self, *, lead_id: int):
        super().__init__(auto_id=f"log-{lead_id}-%s")
        self.fields["kind"].choices = [(kind.value, kind.label) for kind in Activity.CONTACT_KINDS]
        self.fields["kind"].label = "What"
        self.fields["outcome"].widget.attrs["placeholder"] = "Reached, voicemail…"
        for field in self.fields.values():
            css = (
                "form-select form-select-sm" if isinstance(field, forms.ChoiceField) else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css


class HoldForm(forms.Form):
    reason = forms.CharField(
        max_length=Lead._meta.get_field("hold_reason").max_length,
        help_text="E.g. waiting on the customer's budget decision. Shown on My leads and the timeline.",
    )


class DealStageForm(forms.Form):
    stage = forms.ChoiceField(choices=())
    lost_reason = forms.CharField(max_length=LOST_REASON_MAX, required=False, help_text="Required when lost.")

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(value, label) for value, label in Deal.Stage.choices if value != deal.stage]

    def clean(self):
        data = super().clean()
        if data.get("stage") == Deal.Stage.LOST and not data.get("lost_reason", "").strip():
            self.add_error("lost_reason", "Say why the deal was lost.")
        return data


class DealEditForm(forms.Form):
    value = forms.DecimalField(label="Deal value", min_value=0, max_digits=12, decimal_places=2)
    # The range every date a person types is held to (a year like 9999 otherwise fails the database's check).
    expected_close_date = DayField(label="Expected close", required=False)

    def __init__(self, *args, deal: Deal, **kwargs):
        kwargs.setdefault("initial", {"value": deal.value, "expected_close_date": deal.expected_close_date})
        super().__init__(*args, **kwargs)
        self.fields["value"].help_text = f"In {deal.currency}."


class _LeadWorkAccess:
    """Loads the lead and admits only its owner or a manager. Sits after RoleRequiredMixin in the
    MRO, so the role check (and the login redirect) comes first."""

    def dispatch(self, request, *args, **kwargs):
        self.load(kwargs["pk"])
        if not self.may_access(request.user):
            raise PermissionDenied(work_refusal(self.lead))
        return super().dispatch(request, *args, **kwargs)

    def load(self, pk: int) -> None:
        self.lead = get_object_or_404(Lead.objects.select_related("campaign", "owner"), pk=pk)

    def may_access(self, user) -> bool:
        return may_work(self.lead, user)


class LeadWorkView(RoleRequiredMixin, _LeadWorkAccess, FormView):
    """A form about one lead: shown on its own page (and in the lead page's panel), run on POST.

    Subclasses set the title, the form and `perform`; a TransitionError from the service is shown
    on the form, with the input kept.
    """

    allowed_roles = SALES_SIDE
    template_name = "leads/lead_action.html"
    title = ""
    button = "Save"

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead=self.lead, title=self.title, button=self.button, **kwargs)

    def form_valid(self, form):
        try:
            done = self.perform(**form.cleaned_data)
        except TransitionError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, done)
        # From My leads' quick log, back to My leads; from the lead page, back to the lead.
        return redirect(next_or(self.request, self.lead.get_absolute_url()))

    def perform(self, **data) -> str:
        """Call the service; return the message for the rep."""
        raise NotImplementedError


class LogActivityView(LeadWorkView):
    form_class = ActivityForm
    title = "Log activity"
    button = "Log activity"

    def perform(self, kind, outcome, note, next_step_at) -> str:
        first_contact = self.lead.status == Lead.Status.CLAIMED and kind in Activity.CONTACT_KINDS
        activity_log(
            lead=self.lead, rep=self.request.user, kind=kind, outcome=outcome, note=note, next_step_at=next_step_at
        )
        logged = f"{Activity.Kind(kind).label} logged."
        return f"{logged} That was the first contact: the clock has stopped." if first_contact else logged


class HoldView(LeadWorkView):
    form_class = HoldForm
    title = "Put on hold"
    button = "Put on hold"

    def perform(self, reason) -> str:
        services.lead_hold(lead=self.lead, actor=self.request.user, reason=reason)
        return f"{self.lead.full_name} is on hold: {reason}"


@require_POST
@role_required(*SALES_SIDE)
def resume(request, pk):
    """Take a lead off hold, back to where it was; a refusal is a message on the lead page."""
    lead = get_object_or_404(Lead, pk=pk)
    if not may_work(lead, request.user):
        raise PermissionDenied(work_refusal(lead))
    try:
        services.lead_resume(lead=lead, actor=request.user)
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{lead.full_name} is off hold.")
    return redirect(lead)


class DealStageView(LeadWorkView):
    form_class = DealStageForm
    title = "Move deal stage"
    button = "Move"

    def load(self, pk: int) -> None:
        self.deal = get_object_or_404(Deal.objects.select_related("lead"), lead_id=pk)
        self.lead = self.deal.lead

    def may_access(self, user) -> bool:
        return may_move(self.deal, user)

    def get(self, request, *args, **kwargs):
        if self.deal.stage in CLOSED_STAGES:
            messages.info(
                request, f"This deal is {self.deal.get_stage_display().lower()}: a closed deal does not move."
            )
            return redirect(self.lead)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "deal": self.deal}

    def perform(self, stage, lost_reason) -> str:
        deal = deal_move(deal=self.deal, actor=self.request.user, stage=stage, lost_reason=lost_reason)
        return f"{self.lead.full_name}'s deal is now {deal.get_stage_display().lower()}."


class DealEditView(DealStageView):
    form_class = DealEditForm
    title = "Change the deal"
    button = "Save deal"

    def perform(self, value, expected_close_date) -> str:
        deal_edit(deal=self.deal, actor=self.request.user, value=value, expected_close_date=expected_close_date)
        return "The deal is saved."
