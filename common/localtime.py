"""Calendar days in local time, for filtering datetime columns by day without wrapping them in SQL."""

import datetime

from django.utils import timezone


def local_midnight(day: datetime.date, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """The aware start of `day` in `zone` (default: the active time zone — the viewer's)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), zone)
