"""The agreement and its clocks: business calendars, policy versions, hand-offs, deadlines, escalation steps."""

from sla.models.agreement import Department, DepartmentHead, PolicyDraft, PolicyDraftEvent, PolicySignature
from sla.models.calendars import BusinessCalendar, CalendarHoliday, OpeningHours
from sla.models.sla import Deadline, DeadlineQuerySet, Escalation, EscalationStep, Handoff, SlaPolicy

__all__ = [
    "Department",
    "DepartmentHead",
    "PolicyDraft",
    "PolicyDraftEvent",
    "PolicySignature",
    "BusinessCalendar",
    "CalendarHoliday",
    "OpeningHours",
    "Deadline",
    "DeadlineQuerySet",
    "Escalation",
    "EscalationStep",
    "Handoff",
    "SlaPolicy",
]
