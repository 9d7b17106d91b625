"""The targets' progress bars, written in Python: the targets page shows two a row (25 reps a page)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from common.templatetags.money import money_text
from leads.targets import Attainment

register = template.Library()


@register.simple_tag
def target_bar(label: str, measure: Attainment, money: bool = False) -> str:
    """One measure against its target: what was won, of what target and the percent, and a bar (none
    without a target). A tag rather than a partial: a template per bar cost more than the rest of the row.
    `money` for revenue."""

    def shown(value) -> str:
        return money_text(value) if money else str(value)

    if measure.pct is None:
        reached = mark_safe('<span class="text-muted">· no target</span>')  # noqa: S308 - a constant
        bar = ""
    else:
        reached = format_html("of {} · <strong>{}%</strong>", shown(measure.target), measure.pct)
        bar = format_html(
            '\n  <div class="progress progress-thin" role="progressbar" aria-label="{}" aria-valuenow="{}"'
            ' aria-valuemin="0" aria-valuemax="100">\n'
            '    <div class="progress-bar{}" data-width="{}"></div>\n  </div>',
            label,
            measure.bar,
            " bg-success" if measure.met else "",
            measure.bar,
        )
    return format_html(
        '<div class="target-bar mb-2">\n  <div class="d-flex justify-content-between small">\n'
        "    <span>{}</span>\n    <span>{} {}</span>\n  </div>{}\n</div>",
        label,
        shown(measure.won),
        reached,
        bar,
    )
