"""Showing SLA clocks: time left until a due time, and how urgent it is.

static/js/countdown.js updates these live in the browser; it words the time left and picks the colour
the same way, so the first paint and the live text agree. Change both together.
"""

from datetime import UTC, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from sla.models import EscalationStep

register = template.Library()

SOON = timedelta(hours=1)


def _span(delta: timedelta) -> str:
    """'1 d 3 h', '2 h 05 min', '7 min': whole minutes, rounded down."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@register.filter
def time_left(due_at: datetime | None) -> str:
    """'2 h 05 min left', or 'late by 3 min' once the due time has passed."""
    if due_at is None:
        return ""
    delta = due_at - timezone.now()
    if delta.total_seconds() < 0:
        return f"late by {_span(-delta)}"
    return f"{_span(delta)} left"


@register.filter
def utc_iso(due_at: datetime | None) -> str:
    """The instant in ISO 8601 UTC ('2026-03-02T14:05:00Z'), for the countdown script to read."""
    if due_at is None:
        return ""
    return due_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@register.filter
def urgency(due_at: datetime | None) -> str:
    """A Bootstrap colour for a due time: danger when past, warning within the hour."""
    if due_at is None:
        return "secondary"
    delta = due_at - timezone.now()
    if delta.total_seconds() < 0:
        return "danger"
    return "warning" if delta < SOON else "success"


@register.simple_tag
def deadline_badge(due_at: datetime | None, paused_at: datetime | None = None) -> str:
    """A deadline's time left as a badge that static/js/countdown.js counts down live (the text here is
    the no-JS fallback); "paused" and no countdown while the clock is paused. A tag rather than a
    partial: lists show one a row, and a template per row cost more than the rest of the row."""
    if paused_at:
        return format_html(
            '<span class="badge text-bg-secondary" title="{}">paused</span>', "Clock paused while the lead is on hold"
        )
    due = date_format(timezone.localtime(due_at), "DATETIME_FORMAT") if due_at else ""
    return format_html(
        '<span class="badge text-bg-{}" data-due="{}" title="Due {}">{}</span>',
        urgency(due_at),
        utc_iso(due_at),
        due,
        time_left(due_at),
    )


@register.filter
def escalation_labels(steps: list[str] | None) -> list[str]:
    """A policy's escalation steps as people read them, in order."""
    return [EscalationStep(step).label for step in steps or []]


@register.filter
def percent(value: float | None) -> str:
    """'93.4 %', or an en dash when there is nothing to measure yet."""
    return "–" if value is None else f"{value:g} %"


@register.filter
def business_span(delta: timedelta | None) -> str:
    """A span of business time to the second, for checking by hand: '7 h 30 min', '0 h 36 min 05 s'."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    sign = "−" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours} h {minutes:02d} min" + (f" {seconds:02d} s" if seconds else "")
