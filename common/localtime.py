"""Calendar days in local time, for filtering datetime columns by day without wrapping them in SQL."""

import datetime

from django.utils import formats, timezone


def local_midnight(day: datetime.date, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """The aware start of `day` in `zone` (default: the active time zone — the viewer's)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), zone)


# DATETIME_FORMAT ("7 Dec 2026 05:47") as PostgreSQL's to_char writes it, for notes composed in SQL
# (the SLA sweep's); without the zone, which to_char cannot name for a zone other than the session's.
SQL_MOMENT_FORMAT = "FMDD Mon YYYY HH24:MI"


def moment_text(moment: datetime.datetime, zone: datetime.tzinfo | None = None) -> str:
    """A moment in text written by Python (a timeline note, an email), as the pages write it
    (DATETIME_FORMAT, handoff/formats/): "7 Dec 2026 05:47 CET", in `zone` (default: the active zone)."""
    return formats.date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def day_text(day: datetime.date | None) -> str:
    """A calendar day in text written by Python, as the pages write it (DATE_FORMAT): "7 Dec 2026"."""
    return formats.date_format(day, "DATE_FORMAT") if day else "none"
