"""The deals board: open deals by stage, for sales."""

from django.views.generic import TemplateView

from people.roles import SALES_SIDE, RoleRequiredMixin

from ..deals import board_totals, open_deals
from ..models import Deal


class DealBoardView(RoleRequiredMixin, TemplateView):
    """A rep's open deals (a manager's: everyone's) in one column per open stage, with each column's
    count and value. Not paginated: capacity bounds a rep's deals; a manager's board is the team's."""

    allowed_roles = SALES_SIDE
    template_name = "leads/deals/board.html"

    def get_context_data(self, **kwargs):
        deals = open_deals(self.request.user)
        totals = board_totals(deals)
        by_stage = {stage: [] for stage in Deal.OPEN_STAGES}
        for deal in deals:
            by_stage[deal.stage].append(deal)
        columns = [(Deal.Stage(stage), by_stage[stage], totals[stage]) for stage in Deal.OPEN_STAGES]
        return super().get_context_data(columns=columns, **kwargs)
