"""A deadline's receipt, opened from its lead's page: how the due time was worked out."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import TemplateView

from people.roles import ANY_ROLE, RoleRequiredMixin
from sla.agreement import policy_signatories
from sla.models import Deadline
from sla.receipts import deadline_receipt

from .. import queries


class DeadlineReceiptView(RoleRequiredMixin, TemplateView):
    """Everyone who may open the lead may open its deadlines' receipts (the lead page's roles)."""

    allowed_roles = ANY_ROLE
    template_name = "leads/receipt.html"

    def get_context_data(self, **kwargs):
        deadline = get_object_or_404(
            Deadline.objects.select_related("lead", "policy", "policy__created_by", "handoff__claimed_by", "owner"),
            pk=kwargs["deadline_id"],
            lead_id=kwargs["pk"],
        )
        receipt = deadline_receipt(
            deadline,
            holds=queries.deadline_holds(deadline),
            score=queries.score_when(deadline.lead, deadline.starts_at) if deadline.priority else None,
        )
        return super().get_context_data(
            lead=deadline.lead,
            deadline=deadline,
            receipt=receipt,
            signatures=policy_signatories(deadline.policy),
            missed=deadline.is_missed(timezone.now()),
            appeal_events=queries.deadline_appeal_events(deadline),
            **kwargs,
        )
