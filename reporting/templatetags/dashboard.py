"""Words for the SLA dashboard's figures."""

from django import template

from common.templatetags.money import NO_BREAK, money_text
from reporting.dashboard import Acceptance
from reporting.dashboard_tables import business_time_text

register = template.Library()


@register.filter
def business_time(seconds: float | None) -> str:
    """'2 h 05 min' of business time; a dash when nothing was measured. Each number stays with its unit
    (no-break spaces), so a narrow tile wraps "1 h 03 min" between the hours and the minutes, not inside."""
    return business_time_text(seconds).replace(" h", NO_BREAK + "h").replace(" min", NO_BREAK + "min")


@register.filter
def money_hint(amount) -> str:
    return f"worth {money_text(amount)}"


@register.filter
def acceptance_hint(acceptance: Acceptance) -> str:
    return (
        f"{acceptance.kept} of {acceptance.decided} of marketing's hand-offs whose claim window has closed "
        f"({acceptance.in_claim_window} still inside it, not counted)"
    )


@register.filter
def link_of(links: dict[str, str], figure: str) -> str:
    """The drill-down link of `figure` (a key of `FIGURES`)."""
    return links[figure]
