"""Managers steer sales: teams and automatic assignment, reps' capacity, assigning leads, return reasons.
Reps switch their own out-of-office."""

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from common.paths import id_path
from people.names import person_name
from people.roles import Role, RoleRequiredMixin, role_required, sales_reps

from .. import services
from ..forms import AssignForm, RepFilterForm
from ..models import Lead, RepProfile, ReturnReason, SalesTeam
from ..reps import REPS_PER_PAGE, query_without_page, reps_order, reps_where
from ..tally import tally_of
from ..transitions import TransitionError


class TeamForm(forms.ModelForm):
    class Meta:
        model = SalesTeam
        fields = ["name", "manager", "auto_assign"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = (
            get_user_model()
            .objects.filter(groups__name=Role.MANAGERS, is_active=True)
            .order_by("first_name", "last_name", "username")
        )
        self.fields["manager"].label_from_instance = person_name


class RepProfileForm(forms.ModelForm):
    class Meta:
        model = RepProfile
        fields = ["team", "capacity", "weight", "is_away"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weight"].required = False  # left out, the rep keeps their weight

    def clean_weight(self):
        return self.cleaned_data["weight"] or self.instance.weight

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if capacity < 1:
            raise forms.ValidationError("A rep needs room for at least one lead.")
        return capacity


class ReturnReasonForm(forms.ModelForm):
    side = forms.ChoiceField(
        choices=ReturnReason.Side.choices,
        initial=ReturnReason.Side.NEUTRAL,
        required=False,
        help_text=ReturnReason._meta.get_field("side").help_text,
    )

    class Meta:
        model = ReturnReason
        fields = ["label", "side"]

    def clean_side(self) -> str:
        return self.cleaned_data["side"] or ReturnReason.Side.NEUTRAL


class TeamsView(RoleRequiredMixin, TemplateView):
    """Every team (managers' own first), then the reps with their load and capacity a page at a time, by team
    and name, chosen by team and name (`leads.reps`)."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "leads/teams/teams.html"

    def get_context_data(self, **kwargs):
        for rep in sales_reps().filter(rep_profile__isnull=True):
            RepProfile.objects.get_or_create(user=rep)
        reps = RepProfile.objects.filter(user__in=sales_reps().values("pk"))
        teams = list(
            SalesTeam.objects.select_related("manager").annotate(
                rep_count=Count("reps", filter=Q(reps__in=reps.values("pk")))
            )
        )
        filters = RepFilterForm(self.request.GET or None, teams=teams)
        chosen = filters.filters()
        if filters.errors:
            messages.warning(self.request, "Some filters were not understood and were left out.")
        profiles = (
            reps.filter(reps_where(**chosen, to_user="user__", to_team="team"))
            .select_related("user", "team")
            .annotate(open_leads=tally_of(where=Q(owner=OuterRef("user")), statuses=Lead.WORKED_BY_SALES))
            .order_by(*reps_order(to_user="user__", to_team="team"))
        )
        page = Paginator(profiles, REPS_PER_PAGE).get_page(self.request.GET.get("page"))
        # Each row's link from one path reversed once a page; the edit pages come back to this one.
        edit, back = id_path("leads:rep_edit"), "?next=" + quote(self.request.get_full_path())
        for profile in page:
            profile.edit_url = edit(profile.user_id) + back
        kwargs.setdefault("team_form", TeamForm())
        return super().get_context_data(
            teams=sorted(teams, key=lambda team: team.manager_id != self.request.user.pk),
            filters=filters,
            page_obj=page,
            profiles=page.object_list,  # a list: the loop above read the page once
            edit_query=back,
            query=query_without_page(self.request),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = TeamForm(request.POST)
        if form.is_valid():
            form.save()
            messages.success(request, f"Team “{form.instance.name}” created.")
            return redirect(request.get_full_path())  # the same reps' page, its filters kept
        return self.render_to_response(self.get_context_data(team_form=form))


def teams_page(request) -> str:
    """The teams page the manager came from (`next`: its path with its filters and page), else the plain one."""
    teams = reverse("leads:teams")
    came_from = request.POST.get("next") or request.GET.get("next", "")
    if came_from.startswith(f"{teams}?") and url_has_allowed_host_and_scheme(came_from, allowed_hosts=None):
        return came_from
    return teams


class TeamUpdateView(RoleRequiredMixin, FormView):
    allowed_roles = (Role.MANAGERS,)
    form_class = TeamForm
    template_name = "leads/teams/form.html"

    def dispatch(self, request, *args, **kwargs):
        self.team = get_object_or_404(SalesTeam, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.team}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Team {self.team.name}", back=teams_page(self.request), **kwargs)

    def form_valid(self, form):
        form.save()
        state = "on" if form.instance.auto_assign else "off"
        messages.success(self.request, f"Team “{form.instance.name}” saved; automatic assignment is {state}.")
        return redirect(teams_page(self.request))


class RepProfileUpdateView(RoleRequiredMixin, FormView):
    allowed_roles = (Role.MANAGERS,)
    form_class = RepProfileForm
    template_name = "leads/teams/form.html"

    def dispatch(self, request, *args, **kwargs):
        rep = get_object_or_404(sales_reps(), pk=kwargs["user_id"])
        self.profile, _ = RepProfile.objects.get_or_create(user=rep)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.profile}

    def get_context_data(self, **kwargs):
        rep = self.profile.user
        return super().get_context_data(title=person_name(rep), back=teams_page(self.request), **kwargs)

    def form_valid(self, form):
        form.save()
        messages.success(self.request, "Rep settings saved.")
        return redirect(teams_page(self.request))


class AssignView(RoleRequiredMixin, FormView):
    """A manager assigns a waiting lead, or reassigns one a rep is working."""

    allowed_roles = (Role.MANAGERS,)
    form_class = AssignForm
    template_name = "leads/lead_action.html"

    def dispatch(self, request, *args, **kwargs):
        self.lead = get_object_or_404(Lead.objects.select_related("owner"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        title = "Reassign" if self.lead.is_worked_by_sales else "Assign"
        return super().get_context_data(lead=self.lead, title=f"{title} lead", button=title, **kwargs)

    def form_valid(self, form):
        rep = form.cleaned_data["rep"]
        try:
            services.lead_assign(lead=self.lead, rep=rep, actor=self.request.user)
        except TransitionError as exc:
            messages.error(self.request, str(exc))
            return redirect(self.lead)
        messages.success(self.request, f"{self.lead.full_name} now belongs to {person_name(rep)}.")
        return redirect(self.lead)


class ReturnReasonsView(RoleRequiredMixin, TemplateView):
    """The list of reasons reps choose from when they return a lead to marketing."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "leads/teams/return_reasons.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ReturnReasonForm())
        return super().get_context_data(reasons=ReturnReason.objects.all(), **kwargs)

    def post(self, request, *args, **kwargs):
        form = ReturnReasonForm(request.POST)
        if form.is_valid():
            form.instance.position = ReturnReason.objects.count()
            form.save()
            messages.success(request, f"Reason “{form.instance.label}” added.")
            return redirect("leads:return_reasons")
        return self.render_to_response(self.get_context_data(form=form))


@require_POST
@role_required(Role.MANAGERS)
def return_reason_toggle(request, pk):
    reason = get_object_or_404(ReturnReason, pk=pk)
    reason.is_active = not reason.is_active
    reason.save(update_fields=["is_active"])
    messages.success(request, f"“{reason.label}” is {'offered again' if reason.is_active else 'no longer offered'}.")
    return redirect("leads:return_reasons")


@require_POST
@role_required(Role.SALES)
def away_toggle(request):
    """A rep's out-of-office switch: while away, the round-robin skips them."""
    profile, _ = RepProfile.objects.get_or_create(user=request.user)
    profile.is_away = not profile.is_away
    profile.save(update_fields=["is_away"])
    if profile.is_away:
        messages.info(request, "You are out of office: no leads will be assigned to you automatically.")
    else:
        messages.success(request, "Welcome back: automatic assignment includes you again.")
    return redirect("leads:mine")
