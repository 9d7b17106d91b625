"""Appeal a breach from its deadline's page (linked from the receipt and the timeline); rule on it
there; the list of open appeals for those who rule. Every rule is the service's (`appeals.services`)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from appeals import queries, services
from appeals.forms import AppealForm, RulingForm
from appeals.models import Appeal, Arbiter, Ruling
from people.roles import ANY_ROLE, Role, RoleRequiredMixin, has_role, role_required
from sla.agreement import heads
from sla.models import Deadline

# Rows each list shows at most (newest or oldest first, as each says); the page says when there are more.
LIST_LIMIT = 100


def _deadline(deadline_id: int) -> Deadline:
    return get_object_or_404(Deadline.objects.select_related("lead", "owner"), pk=deadline_id)


def _appeal_of(deadline: Deadline) -> Appeal | None:
    return Appeal.objects.select_related("appellant", "charged_to", "ruling__judge").filter(deadline=deadline).first()


def _page(request, deadline: Deadline, *, appeal_form=None, ruling_form=None, status: int = 200):
    appeal = _appeal_of(deadline)
    context = {"lead": deadline.lead, "deadline": deadline, "appeal": appeal, "now": timezone.now()}
    if appeal is None:
        context["charged_to"] = services.charged_to_label(deadline)
        context["refusal"] = services.appeal_refusal(request.user, deadline, now=context["now"])
        if context["refusal"] is None:
            context["appeal_form"] = appeal_form or AppealForm()
    else:
        ruled_by = appeal.ruled_by_department
        context["head"] = heads()[ruled_by]
        context["arbiters"] = [a.user for a in Arbiter.objects.filter(rules_on=appeal.side).select_related("user")]
        if not hasattr(appeal, "ruling") and services.may_rule(request.user, appeal):
            context["ruling_form"] = ruling_form or RulingForm()
    return render(request, "appeals/deadline.html", context, status=status)


def _refused(action, request) -> bool:
    """Run the service call `action`; when the service refuses, tell the user why (a message) and say so."""
    try:
        action()
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.warning(request, str(exc))
    else:
        return False
    return True


class DeadlineAppealView(RoleRequiredMixin, TemplateView):
    """A missed deadline's appeal: the form to appeal it, the appeal and its ruling, or why not.
    Open to every role that opens the lead page (as its receipt is)."""

    allowed_roles = ANY_ROLE

    def get(self, request, *args, **kwargs):
        return _page(request, _deadline(kwargs["deadline_id"]))


@require_POST
@role_required(*ANY_ROLE)
def appeal_make(request, deadline_id):
    deadline = _deadline(deadline_id)
    form = AppealForm(request.POST)
    if not form.is_valid():
        return _page(request, deadline, appeal_form=form, status=400)
    if not _refused(lambda: services.appeal_make(actor=request.user, deadline=deadline, **form.cleaned_data), request):
        messages.success(request, "Appeal made. The other department will rule on it; it is on the lead's timeline.")
    return redirect("appeals:deadline", deadline.pk)


@require_POST
@role_required(Role.MANAGERS)
def appeal_rule(request, pk):
    appeal = get_object_or_404(Appeal.objects.select_related("deadline"), pk=pk)
    form = RulingForm(request.POST)
    if not form.is_valid():
        return _page(request, _deadline(appeal.deadline_id), ruling_form=form, status=400)
    if not _refused(lambda: services.appeal_rule(actor=request.user, appeal=appeal, **form.cleaned_data), request):
        messages.success(request, f"Ruled: {Ruling(form.cleaned_data['outcome']).label.lower()}.")
    return redirect("appeals:deadline", appeal.deadline_id)


class AppealListView(RoleRequiredMixin, TemplateView):
    """Managers: the open appeals they may rule on, every other open appeal (who rules it), recent
    rulings. Everyone: the appeals they made or that concern their breaches."""

    allowed_roles = ANY_ROLE
    template_name = "appeals/list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(limit=LIST_LIMIT, **kwargs)
        context["mine"] = list(queries.appeals_of(user)[:LIST_LIMIT])
        if has_role(user, Role.MANAGERS):
            to_rule = list(queries.open_appeals_for(user)[: LIST_LIMIT + 1])
            waiting = list(queries.open_appeals().exclude(pk__in=[a.pk for a in to_rule])[:LIST_LIMIT])
            context.update(
                to_rule=to_rule[:LIST_LIMIT],
                more_to_rule=len(to_rule) > LIST_LIMIT,
                waiting=waiting,
                ruled=list(queries.recently_ruled()[:LIST_LIMIT]),
            )
        return context
