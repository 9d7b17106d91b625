"""Money as people read it: with the installation's currency (settings.CURRENCY), never wrapping."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
NO_BREAK = "\u00a0"


def money_text(value, currency: str = "", places: int = 2) -> str:
    """ "€12,500.00", "CHF 12,500.00", "−€80.00"; "–" for no value. `currency` defaults to settings.CURRENCY."""
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    code = (currency or settings.CURRENCY).upper()
    number = intcomma(floatformat(abs(amount), places))
    unit = SYMBOLS.get(code, code + NO_BREAK)
    return f"{'−' if amount < 0 else ''}{unit}{number}"


@register.filter
def money(value, currency: str = "") -> str:
    """{{ deal.value|money }} or {{ value|money:deal.currency }}: two decimal places."""
    return money_text(value, currency)


@register.filter
def money_whole(value) -> str:
    """{{ campaign.budget|money_whole }}: whole units, for columns of figures."""
    return money_text(value, places=0)


@register.simple_tag
def currency() -> str:
    """The installation's currency code, for labels ("Revenue (EUR)")."""
    return settings.CURRENCY
