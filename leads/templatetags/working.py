"""What the lead page's "working" panel needs: the activities, and the forms its viewer may use."""

from dataclasses import dataclass

from django import template

from leads.activities import may_work
from leads.deals import CLOSED_STAGES, may_move
from leads.models import Activity, Deal, Lead
from leads.transitions import may
from leads.views.working import ActivityForm, DealEditForm, DealStageForm, HoldForm

register = template.Library()


@dataclass(frozen=True)
class LeadWork:
    activities: list[Activity]
    activity_form: ActivityForm | None = None
    hold_form: HoldForm | None = None
    can_resume: bool = False
    deal: Deal | None = None
    deal_form: DealStageForm | None = None
    deal_edit_form: DealEditForm | None = None


@register.simple_tag(takes_context=True)
def lead_work(context, lead: Lead) -> LeadWork:
    """Everyone who sees the lead sees its activities and deal; only its owner or a manager gets the
    forms, and only those the lead's state allows (the services re-check on POST)."""
    user = context["request"].user
    workable = lead.is_worked_by_sales and may_work(lead, user)
    deal = getattr(lead, "deal", None)
    deal_open = deal is not None and deal.stage not in CLOSED_STAGES
    return LeadWork(
        activities=list(lead.activities.select_related("rep")),
        activity_form=ActivityForm() if workable or (deal_open and may_work(lead, user)) else None,
        hold_form=HoldForm() if may(lead, "hold", user) else None,
        can_resume=may(lead, "resume", user),
        deal=deal,
        deal_form=DealStageForm(deal=deal) if deal_open and may_move(deal, user) else None,
        deal_edit_form=DealEditForm(deal=deal) if deal_open and may_move(deal, user) else None,
    )
