"""Showing the sweep's health: short spans of time, down to the second."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def seconds_span(delta: timedelta | None) -> str:
    """'42 s', '3 min 5 s', '2 h 10 min', '1 d 3 h'; an en dash for no value. The sweep runs every few
    seconds and must notice a breach within a minute, so seconds matter here as they do nowhere else."""
    if delta is None:
        return "–"
    seconds = max(int(delta.total_seconds()), 0)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"
