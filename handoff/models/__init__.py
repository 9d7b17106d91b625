"""What sits between the departments. One module per concern; Django sees them all from here."""

from .sla import Deadline, DeadlineQuerySet, Handoff, SlaPolicy

__all__ = ["Deadline", "DeadlineQuerySet", "Handoff", "SlaPolicy"]
