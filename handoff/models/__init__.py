"""What sits between the departments. One module per concern; Django sees them all from here."""

from .calendars import BusinessCalendar, CalendarHoliday, OpeningHours
from .counts import DeadlineOutcome, EventCount
from .health import SweepHeartbeat
from .notifications import Notification, UserPreferences
from .sla import Deadline, DeadlineQuerySet, Escalation, EscalationStep, Handoff, SlaPolicy

__all__ = [
    "BusinessCalendar",
    "CalendarHoliday",
    "OpeningHours",
    "Deadline",
    "DeadlineOutcome",
    "DeadlineQuerySet",
    "Escalation",
    "EscalationStep",
    "EventCount",
    "Handoff",
    "Notification",
    "SlaPolicy",
    "SweepHeartbeat",
    "UserPreferences",
]
