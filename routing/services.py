"""Time off: the one door for adding and removing a rep's days off."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction

from people.roles import Role, has_role

from .models import TimeOff


def _may_set_for(actor, rep) -> bool:
    """A rep sets their own time off; a manager sets anyone's."""
    return actor == rep or has_role(actor, Role.MANAGERS)


def time_off_add(*, actor, rep, starts_on: datetime.date, ends_on: datetime.date, note: str = "") -> TimeOff:
    """Record days off for `rep` (both dates included). Raises PermissionDenied for anyone else's
    time off unless `actor` is a manager."""
    if not _may_set_for(actor, rep):
        raise PermissionDenied("Only managers set another rep's time off.")
    time_off = TimeOff(rep=rep, starts_on=starts_on, ends_on=ends_on, note=note, created_by=actor)
    time_off.full_clean()
    with transaction.atomic():
        time_off.save()
    return time_off


def time_off_remove(*, actor, time_off_id: int) -> None:
    """Remove days off (the rep's own, or anyone's for a manager). Raises TimeOff.DoesNotExist when
    there is none the actor may remove, so nobody learns of others' time off by trying ids."""
    time_off = TimeOff.objects.select_related("rep").get(pk=time_off_id)
    if not _may_set_for(actor, time_off.rep):
        raise TimeOff.DoesNotExist
    time_off.delete()
