"""Showing SLA clocks: time left until a due time, and how urgent it is."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()

SOON = timedelta(hours=1)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def time_left(due_at: datetime | None) -> str:
    """'3 h 12 min left', or 'overdue by 40 min' once the due time has passed."""
    if due_at is None:
        return ""
    delta = due_at - timezone.now()
    if delta.total_seconds() < 0:
        return f"overdue by {_span(-delta)}"
    return f"{_span(delta)} left"


@register.filter
def urgency(due_at: datetime | None) -> str:
    """A Bootstrap colour for a due time: danger when past, warning within the hour."""
    if due_at is None:
        return "secondary"
    delta = due_at - timezone.now()
    if delta.total_seconds() < 0:
        return "danger"
    return "warning" if delta < SOON else "success"


@register.filter
def percent(value: float | None) -> str:
    """'93.4 %', or an en dash when there is nothing to measure yet."""
    return "–" if value is None else f"{value:g} %"
