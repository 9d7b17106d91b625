"""The deals board: every stage from qualified to won and lost, for sales; and the older closed deals."""

from django.utils import timezone
from django.views.generic import ListView, TemplateView

from people.roles import SALES_SIDE, RoleRequiredMixin

from ..deals import (
    CLOSED_STAGES,
    LOST_REASON_MAX,
    RECENT_CLOSED_DAYS,
    board_deals,
    board_totals,
    closed_deals,
    recent_since,
)
from ..models import Deal


class DealBoardView(RoleRequiredMixin, TemplateView):
    """A rep's deals (a manager's: everyone's) in one column per stage, with each column's count and
    value: the open stages in full, won and lost for the last RECENT_CLOSED_DAYS days. A card moves by
    dragging it to another column or, without a mouse or script, by its stage select; both post to the
    lead's deal-stage form (leads:deal_stage), which runs the deal service and comes back here.
    Not paginated: capacity bounds a rep's open deals; a manager's board is the team's."""

    allowed_roles = SALES_SIDE
    template_name = "leads/deals/board.html"

    def get_context_data(self, **kwargs):
        deals = board_deals(self.request.user, since=recent_since())
        totals = board_totals(deals)
        by_stage = {stage: [] for stage in Deal.Stage.values}
        for deal in deals:
            by_stage[deal.stage].append(deal)
        for stage in CLOSED_STAGES:
            by_stage[stage].sort(key=lambda deal: deal.closed_at, reverse=True)
        columns = [(stage, by_stage[stage.value], totals[stage.value]) for stage in Deal.Stage]
        return super().get_context_data(
            columns=columns,
            closed_stages=CLOSED_STAGES,
            recent_days=RECENT_CLOSED_DAYS,
            stage_choices=Deal.Stage.choices,
            lost_reason_max=LOST_REASON_MAX,
            **kwargs,
        )


class ClosedDealsView(RoleRequiredMixin, ListView):
    """Deals won or lost before the board's recent window, newest first, a page at a time."""

    allowed_roles = SALES_SIDE
    template_name = "leads/deals/closed.html"
    context_object_name = "deals"
    paginate_by = 50

    def get_queryset(self):
        return closed_deals(self.request.user, before=recent_since(timezone.now()))

    def get_context_data(self, **kwargs):
        return super().get_context_data(recent_days=RECENT_CLOSED_DAYS, **kwargs)
