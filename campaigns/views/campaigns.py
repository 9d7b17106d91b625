"""Marketing's pages: campaigns and the leads they capture."""

from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from common.paging import CountedPaginator
from people.roles import MARKETING_SIDE, RoleRequiredMixin, has_role, role_required

from .. import queries
from ..capture import LeadData, lead_capture
from ..forms import CampaignFilterForm, CampaignForm, LeadForm
from ..models import Campaign
from ..services import campaign_archive, campaign_unarchive


class CampaignListView(RoleRequiredMixin, ListView):
    """Campaigns with search, filters and sort; archived ones only when the status filter asks."""

    allowed_roles = MARKETING_SIDE
    paginate_by = 25

    def get(self, request, *args, **kwargs):
        self.filters = CampaignFilterForm(request.GET or None)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        chosen = self.filters.filters()
        if self.filters.errors:
            problems = " ".join(
                f"{self.filters[name].label if name in self.filters.fields else 'Filters'}: {' '.join(errors)}"
                for name, errors in self.filters.errors.items()
            )
            messages.warning(self.request, f"Some filters were not understood and were left out. {problems}")
        return queries.campaign_list(**chosen)

    def paginate_queryset(self, queryset, page_size):
        # A page number out of range or not a number shows the nearest page instead of a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filters=self.filters, query=query.urlencode(), **kwargs)


class CampaignCreateView(RoleRequiredMixin, SuccessMessageMixin, CreateView):
    allowed_roles = MARKETING_SIDE
    model = Campaign
    form_class = CampaignForm
    success_message = "Campaign “%(name)s” created."

    def form_valid(self, form):
        form.instance.owner = self.request.user
        return super().form_valid(form)


class CampaignUpdateView(RoleRequiredMixin, SuccessMessageMixin, UpdateView):
    allowed_roles = MARKETING_SIDE
    model = Campaign
    form_class = CampaignForm
    success_message = "Campaign “%(name)s” saved."


class CampaignDetailView(RoleRequiredMixin, DetailView):
    """The campaign's results, then its leads."""

    allowed_roles = MARKETING_SIDE
    queryset = Campaign.objects.select_related("owner")

    def get_context_data(self, **kwargs):
        results = queries.campaign_results(self.object, now=timezone.now())
        leads = self.object.leads.select_related("owner").order_by("-created_at", "-id")
        # Its leads, merged ones included, as the tallies count them: no COUNT(*) over the campaign.
        paginator = CountedPaginator(leads, 50, count=results.captured + results.merged)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            results=results,
            page_obj=page,
            leads=page.object_list,
            **kwargs,
        )


@role_required(*MARKETING_SIDE)
@require_POST
def archive(request, pk):
    campaign = campaign_archive(campaign=get_object_or_404(Campaign, pk=pk), actor=request.user)
    messages.success(request, f"“{campaign.name}” is archived: hidden from the campaign list and taking no more leads.")
    return redirect(campaign)


@role_required(*MARKETING_SIDE)
@require_POST
def unarchive(request, pk):
    campaign = campaign_unarchive(campaign=get_object_or_404(Campaign, pk=pk), actor=request.user)
    messages.success(request, f"“{campaign.name}” is back, as {campaign.get_status_display().lower()}.")
    return redirect(campaign)


class LeadCreateView(RoleRequiredMixin, FormView):
    """Add a lead to a campaign by hand."""

    allowed_roles = MARKETING_SIDE
    form_class = LeadForm
    template_name = "campaigns/lead_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.campaign = get_object_or_404(Campaign, pk=kwargs["pk"])
        if self.campaign.is_archived and has_role(request.user, *MARKETING_SIDE):
            # The same rule as the web intake's 410: an archived campaign takes no more leads.
            messages.warning(request, f"“{self.campaign.name}” is archived and takes no more leads.")
            return redirect(self.campaign)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(campaign=self.campaign, **kwargs)

    def form_valid(self, form):
        result = lead_capture(campaign=self.campaign, actor=self.request.user, data=LeadData(**form.cleaned_data))
        if result.created:
            messages.success(self.request, f"{result.lead.full_name} added to {self.campaign.name}.")
        else:
            messages.info(
                self.request,
                f"{result.lead.email} was already a lead: it is marked as captured again "
                "and keeps its owner and status.",
            )
        if "add_another" in self.request.POST:
            return redirect("campaigns:add_lead", pk=self.campaign.pk)
        return redirect(self.campaign)
