"""Marketing's pages: campaigns and the leads they capture."""

from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from handoff.roles import MARKETING_SIDE, RoleRequiredMixin

from .. import queries
from ..capture import LeadData, lead_capture
from ..forms import CampaignForm, LeadForm
from ..models import Campaign


class CampaignListView(RoleRequiredMixin, ListView):
    allowed_roles = MARKETING_SIDE
    paginate_by = 25

    def get_queryset(self):
        return queries.campaigns_with_counts()


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
    allowed_roles = MARKETING_SIDE
    queryset = Campaign.objects.select_related("owner")

    def get_context_data(self, **kwargs):
        leads = self.object.leads.select_related("owner").order_by("-created_at", "-id")
        page = Paginator(leads, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            funnel=queries.campaign_funnel(self.object), page_obj=page, leads=page.object_list, **kwargs
        )


class LeadCreateView(RoleRequiredMixin, FormView):
    """Add a lead to a campaign by hand."""

    allowed_roles = MARKETING_SIDE
    form_class = LeadForm
    template_name = "campaigns/lead_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.campaign = get_object_or_404(Campaign, pk=kwargs["pk"])
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
