"""Sales pages (queue, my leads) and the lead page with its timeline and actions.

Views parse input with a form and call one service; the services check the move and the actor.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, TemplateView

from common.paging import CountedPaginator, PagedByIds
from common.paths import ID_MARK, back_query, id_path
from leads.duplicates import possible_duplicates
from people.navigation import back_link, next_or
from people.roles import ANY_ROLE, MARKETING_SIDE, SALES_SIDE, Role, RoleRequiredMixin, has_role, role_required

from .. import queries, services
from ..actions import available_actions
from ..forms import ConvertForm, DisqualifyForm, FirstContactForm, HandOffForm, NoteForm, QueueFilterForm, ReturnForm
from ..models import Lead, RepProfile
from ..targets import home_targets
from ..transitions import TransitionError
from .working import QuickLogForm

MY_LEADS_PER_GROUP = 25


class QueueView(RoleRequiredMixin, ListView):
    """Leads waiting for a rep, most urgent claim deadline first."""

    allowed_roles = SALES_SIDE
    template_name = "leads/queue.html"
    context_object_name = "deadlines"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        self.filters = QueueFilterForm(request.GET or None)
        if self.filters.is_bound and not self.filters.is_valid():
            messages.warning(request, "Some filters were not understood and were left out.")
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        chosen = self.filters.cleaned_data if self.filters.is_bound and self.filters.is_valid() else {}
        self.chosen = {
            "campaign": chosen.get("campaign"),
            "channel": chosen.get("channel", ""),
            "priority": chosen.get("priority", ""),
        }
        order = chosen.get("order") or "urgent"
        deadlines = queries.queue(**self.chosen, order=order)
        # By urgency PostgreSQL walks an index and stops after a page; by score it sorts the waiting leads.
        return deadlines if order == "urgent" else PagedByIds(deadlines)

    def get_paginator(self, queryset, per_page, **kwargs):
        # No COUNT(*) over every waiting lead: the tallies know how many wait (or the planner guesses).
        count, exact = queries.queue_size(**self.chosen)
        return CountedPaginator(queryset, per_page, count=count, estimated=not exact, **kwargs)

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        context = super().get_context_data(now=timezone.now(), filters=self.filters, query=query.urlencode(), **kwargs)
        # Each row's links, from two paths reversed once a page (the template reuses the rows read here).
        detail, claim, back = id_path("leads:detail"), id_path("leads:claim"), back_query(self.request)
        for deadline in context["deadlines"]:
            deadline.lead.link = detail(deadline.lead_id) + back
            deadline.claim_url = claim(deadline.lead_id)
        return context


class MyLeadsView(RoleRequiredMixin, TemplateView):
    """A rep's home page: their open leads grouped by what needs doing, the most urgent
    `MY_LEADS_PER_GROUP` of each group ("Show all" lists one group in full)."""

    allowed_roles = (Role.SALES,)
    template_name = "leads/my_leads.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        show_all = self.request.GET.get("all", "")
        groups = queries.rep_worklist(self.request.user, now=now, per_group=MY_LEADS_PER_GROUP, show_all=show_all)
        # Every row's quick-log form is the same but for its lead's id in the fields' ids: render it once
        # (its widgets' templates cost more than the rest of the row), then write each row's id in.
        fields = render_to_string("leads/_quick_log_fields.html", {"form": QuickLogForm(lead_id=ID_MARK)})
        detail, log, back = id_path("leads:detail"), id_path("leads:log_activity"), back_query(self.request)
        for group in groups:
            for lead in group.leads:
                lead.link = detail(lead.pk) + back
                lead.log_url = log(lead.pk)
                lead.log_fields = mark_safe(fields.replace(str(ID_MARK), str(lead.pk)))  # noqa: S308 - an int into our own HTML
        is_away = RepProfile.objects.filter(user=self.request.user, is_away=True).exists()
        return super().get_context_data(
            groups=groups,
            total=sum(group.count for group in groups),
            now=now,
            is_away=is_away,
            targets=home_targets(self.request.user, now),
            **kwargs,
        )


class LeadDetailView(RoleRequiredMixin, DetailView):
    """A lead, its timeline (newest first, a page at a time: "Older events"), its deadlines and the
    moves open to the viewer."""

    allowed_roles = ANY_ROLE
    template_name = "leads/lead_detail.html"
    queryset = Lead.objects.select_related("campaign", "owner", "created_by")

    def duplicates(self, lead: Lead) -> list[Lead]:
        """Possible duplicates, for marketing (who merges) while the lead is live."""
        if lead.merged_into_id or not has_role(self.request.user, *MARKETING_SIDE):
            return []
        return list(possible_duplicates(lead)[:5])

    def get_context_data(self, **kwargs):
        lead = self.object
        before = self.request.GET.get("before", "")
        timeline = queries.timeline_page(lead, before=int(before) if before.isdigit() else None)
        return super().get_context_data(
            events=timeline.events,
            older=timeline.older,
            deadlines=lead.deadlines.order_by("-starts_at").select_related("owner"),
            actions=available_actions(lead, self.request.user),
            now=timezone.now(),
            back=back_link(self.request),
            duplicates=self.duplicates(lead),
            **kwargs,
        )


@require_POST
@role_required(Role.SALES)
def claim(request, pk):
    """Claim from the queue. A rep who loses the race is told who won, never shown an error page."""
    lead = get_object_or_404(Lead, pk=pk)
    try:
        services.lead_claim(lead=lead, rep=request.user)
    except TransitionError as exc:
        messages.warning(request, str(exc))
        return redirect("leads:queue")
    messages.success(request, f"You claimed {lead.full_name}. First contact is due next.")
    return redirect(lead)


class LeadActionView(RoleRequiredMixin, FormView):
    """A move on one lead: show its form on GET, run its service on POST.

    Subclasses set the title, the form and `perform`; the service has the last word on whether the
    move is allowed, and a refusal comes back as a message on the lead page.
    """

    template_name = "leads/lead_action.html"
    form_class = NoteForm
    title = ""
    button = "Save"
    done = ""

    def dispatch(self, request, *args, **kwargs):
        self.lead = get_object_or_404(Lead.objects.select_related("campaign", "owner"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def refused(self, request):
        """Back to the lead with a word, when the move is not open to this viewer on this lead now: no
        form to fill in (GET), and none shown again with its errors (an invalid POST)."""
        offered = {action.name for action in available_actions(self.lead, request.user)}
        if request.resolver_match.url_name not in offered:
            messages.info(request, f"“{self.title}” is not open to you for this lead right now.")
            return redirect(self.lead)
        return None

    def get(self, request, *args, **kwargs):
        return self.refused(request) or super().get(request, *args, **kwargs)

    def form_invalid(self, form):
        # A valid POST goes to the service, which has the last word (and says why it refuses).
        return self.refused(self.request) or super().form_invalid(form)

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead=self.lead, title=self.title, button=self.button, **kwargs)

    def form_valid(self, form):
        try:
            self.perform(**form.cleaned_data)
        except TransitionError as exc:
            messages.error(self.request, str(exc))
            return redirect(self.lead)
        messages.success(self.request, self.done.format(lead=self.lead.full_name))
        return redirect(self.get_success_url())

    def perform(self, **data) -> None:
        raise NotImplementedError

    def get_success_url(self) -> str:
        # Back to where the user came from (e.g. the returned inbox), if it is one of our pages.
        return next_or(self.request, reverse("leads:detail", args=[self.lead.pk]))


class QualifyView(LeadActionView):
    allowed_roles = MARKETING_SIDE
    title = "Mark as MQL"
    button = "Mark MQL"
    done = "{lead} is now an MQL."

    def perform(self, note):
        services.lead_qualify(lead=self.lead, actor=self.request.user, note=note)


class HandOffView(LeadActionView):
    allowed_roles = MARKETING_SIDE
    form_class = HandOffForm
    title = "Hand to sales"
    button = "Hand off"
    done = "{lead} is in the sales queue; the claim clock is running."

    def perform(self, note):
        services.lead_hand_off(lead=self.lead, actor=self.request.user, note=note)


class RenurtureView(LeadActionView):
    allowed_roles = MARKETING_SIDE
    title = "Back to nurturing"
    button = "Back to nurturing"
    done = "{lead} is back in nurturing, history kept."

    def perform(self, note):
        services.lead_renurture(lead=self.lead, actor=self.request.user, note=note)


class FirstContactView(LeadActionView):
    allowed_roles = SALES_SIDE
    form_class = FirstContactForm
    title = "Log first contact"
    button = "Log contact"
    done = "First contact with {lead} logged; the clock has stopped."

    def perform(self, note):
        services.lead_log_first_contact(lead=self.lead, actor=self.request.user, note=note)


class ConvertView(LeadActionView):
    allowed_roles = SALES_SIDE
    form_class = ConvertForm
    title = "Convert to deal"
    button = "Convert"
    done = "{lead} converted. Well done."

    def perform(self, value, currency, note, stage, expected_close_date):
        services.lead_convert(
            lead=self.lead,
            actor=self.request.user,
            value=value,
            currency=currency,
            note=note,
            stage=stage,
            expected_close_date=expected_close_date,
        )


class ReturnView(LeadActionView):
    allowed_roles = SALES_SIDE
    form_class = ReturnForm
    title = "Return to marketing"
    button = "Return"
    done = "{lead} went back to marketing with your reason."

    def perform(self, reason, note):
        services.lead_return(lead=self.lead, actor=self.request.user, reason=reason, note=note)


class DisqualifyView(LeadActionView):
    allowed_roles = ANY_ROLE
    form_class = DisqualifyForm
    title = "Disqualify"
    button = "Disqualify"
    done = "{lead} is disqualified."

    def perform(self, reason):
        services.lead_disqualify(lead=self.lead, actor=self.request.user, reason=reason)
