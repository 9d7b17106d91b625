"""Time off (each rep their own, managers anyone's), who is on shift now, the routing rules with
their preview, and the routing log."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from common.paging import CountedPaginator, estimated_count
from leads.assignment import router
from people.roles import SALES_SIDE, Role, RoleRequiredMixin, has_role, role_required, sales_reps
from sla.calendar import WEEKDAYS
from sla.models import BusinessCalendar

from . import services
from .forms import PreviewForm, RoutingLogFilters, RuleFormSet, TimeOffForm, WorkingHoursForm
from .models import RoutingDecision, RuleSet, TimeOff
from .router import SAID, candidates_at, held_count
from .services import RULE_FIELDS


class TimeOffView(RoleRequiredMixin, FormView):
    """A rep's own days off; a manager's view of everyone's, with who is on shift right now."""

    allowed_roles = SALES_SIDE
    template_name = "routing/time_off.html"
    form_class = TimeOffForm

    def is_manager(self) -> bool:
        return has_role(self.request.user, Role.MANAGERS)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "for_manager": self.is_manager()}

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        upcoming = TimeOff.objects.filter(ends_on__gte=today).select_related("rep").order_by("starts_on", "pk")
        if not self.is_manager():
            upcoming = upcoming.filter(rep=self.request.user)
        context = {"time_off": upcoming, "is_manager": self.is_manager()}
        if self.is_manager():
            candidates = candidates_at(timezone.now())
            held = held_count([candidate.rep.user_id for candidate in candidates])
            for candidate in candidates:
                candidate.held = held.get(candidate.rep.user_id, 0)
            context["reps_now"] = [(c, SAID.get(c.shift.verdict, "on shift")) for c in candidates]
        return super().get_context_data(**context, **kwargs)

    def form_valid(self, form):
        rep = form.cleaned_data.get("rep") or self.request.user
        services.time_off_add(
            actor=self.request.user,
            rep=rep,
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            note=form.cleaned_data["note"],
        )
        messages.success(self.request, "Time off saved: routing passes over those days.")
        return redirect("routing:time_off")


@require_POST
@role_required(*SALES_SIDE)
def time_off_remove(request, pk: int):
    try:
        services.time_off_remove(actor=request.user, time_off_id=pk)
    except (TimeOff.DoesNotExist, PermissionDenied) as exc:
        raise Http404("No such time off.") from exc
    messages.success(request, "Time off removed.")
    return redirect("routing:time_off")


class WorkingHoursView(RoleRequiredMixin, FormView):
    """A rep's own working hours: their own page for a rep, any rep's for a manager."""

    allowed_roles = SALES_SIDE
    template_name = "routing/hours.html"
    form_class = WorkingHoursForm

    @cached_property
    def rep(self):
        """Whose hours: a rep's own (a rep asking for anyone else's finds nothing), a manager's pick."""
        user, rep_id = self.request.user, self.kwargs.get("rep_id")
        if rep_id is None or rep_id == user.pk:
            if not has_role(user, Role.SALES):
                raise Http404("Managers pick a rep on the Time off page.")
            return user
        if not has_role(user, Role.MANAGERS):
            raise Http404("No such rep.")
        rep = sales_reps().filter(pk=rep_id).first()
        if rep is None:
            raise Http404("No such rep.")
        return rep

    def get_initial(self):
        return WorkingHoursForm.initial_of(self.rep)

    def get_context_data(self, **kwargs):
        calendar = BusinessCalendar.objects.spec_for(self.rep)
        team_hours = [
            (name, ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in calendar.weekly[day]) or "closed")
            for day, name in enumerate(WEEKDAYS)
        ]
        return super().get_context_data(
            rep=self.rep, own=self.rep == self.request.user, zone=calendar.zone, team_hours=team_hours, **kwargs
        )

    def form_valid(self, form):
        try:
            services.working_hours_set(actor=self.request.user, rep=self.rep, hours=form.hours())
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if form.hours():
            messages.success(self.request, "Working hours saved: routing gives leads only inside them.")
        else:
            messages.success(self.request, "Working hours cleared: the team's hours apply.")
        return redirect(self.request.path)


class RoutingLogView(RoleRequiredMixin, TemplateView):
    """Every automatic routing, newest first: which rep got the lead and why the others did not."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "routing/log.html"
    per_page = 50
    EXACT_UP_TO = 10_000

    def get_context_data(self, **kwargs):
        filters = RoutingLogFilters(self.request.GET or None)
        decisions = RoutingDecision.objects.select_related("lead", "chosen", "team")
        if filters.is_valid():
            if rep := filters.cleaned_data.get("rep"):
                decisions = decisions.filter(chosen=rep)
            if trigger := filters.cleaned_data.get("trigger"):
                decisions = decisions.filter(trigger=trigger)
        # The log has a row per routed lead: past EXACT_UP_TO rows no COUNT(*), the planner's estimate.
        decisions = decisions.order_by("-decided_at", "-pk")
        estimate = estimated_count(decisions)
        exact = estimate < self.EXACT_UP_TO
        count = decisions.count() if exact else estimate
        paginator = CountedPaginator(decisions, self.per_page, count=count, estimated=not exact)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(filters=filters, page=page, said=SAID, **kwargs)


def route_preview(lead) -> RoutingDecision:
    """What routing would decide for `lead` now, with nothing changed: the router runs as a hand-off
    would (shifts, turns, rule, locks) in a transaction that is then rolled back."""
    with transaction.atomic():
        router().route(lead=lead, now=timezone.now())
        preview = RoutingDecision.objects.select_related("chosen", "rule").filter(lead=lead).first()
        transaction.set_rollback(True)
    return preview


class RulesView(RoleRequiredMixin, TemplateView):
    """The routing rules: the current version, a form that publishes the next, and a preview."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "routing/rules.html"

    def current_rules(self):
        ruleset = RuleSet.current()
        rules = list(ruleset.rules.select_related("campaign", "team", "rep")) if ruleset else []
        return ruleset, rules

    def get_context_data(self, formset=None, **kwargs):
        ruleset, rules = self.current_rules()
        if formset is None:
            formset = RuleFormSet(initial=[{name: getattr(rule, name) for name in RULE_FIELDS} for rule in rules])
        preview_form = PreviewForm(self.request.GET or None)
        preview = route_preview(preview_form.cleaned_data["lead"]) if preview_form.is_valid() else None
        return super().get_context_data(
            ruleset=ruleset,
            rules=rules,
            formset=formset,
            manual_teams={rule.team_id for rule in rules if not rule.team.auto_assign},
            preview_form=preview_form,
            preview=preview,
            rebalance_choices=RuleSet.Rebalance.choices,
            rebalance=ruleset.rebalance if ruleset else RuleSet.Rebalance.PROPOSE,
            **kwargs,
        )

    @staticmethod
    def owner_match_days(data) -> int:
        value = data.get("owner_match_days", "").strip()
        # ASCII digits only: "²".isdigit() is true, and int() refuses it.
        return min(int(value), 3650) if value.isascii() and value.isdigit() else RuleSet.owner_match_days.field.default

    def post(self, request, *args, **kwargs):
        formset = RuleFormSet(request.POST)
        if formset.is_valid():
            try:
                ruleset = services.rules_publish(
                    actor=request.user,
                    rules=formset.rules(),
                    note=request.POST.get("note", "")[:200],
                    owner_match_days=self.owner_match_days(request.POST),
                    rebalance=request.POST.get("rebalance", RuleSet.Rebalance.PROPOSE),
                )
            except services.RulesChanged as exc:
                messages.error(request, str(exc))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"Routing rules v{ruleset.version} published: new hand-offs follow them.")
                return redirect("routing:rules")
        return self.render_to_response(self.get_context_data(formset=formset))
