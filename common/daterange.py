"""The range of dates and times people may enter, and the form fields that hold them to it.

Every date or time typed into a form goes through `DayField` or `MomentField`: a year outside
1900–2999 is a typo, and one near the end of what Python can hold (9999-12-31 23:59 in a zone behind
UTC is year 10000 in UTC) would break every page that shows it. The database refuses such values too
(`stored_moment_in_range`, `stored_day_in_range`), so nothing outside the range is ever read back.
"""

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

EARLIEST_DAY, LATEST_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
OUT_OF_RANGE = f"Pick a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
# The entered range in every time zone (UTC−12 … UTC+14), as stored (UTC).
EARLIEST_STORED = datetime.datetime(1899, 12, 31, tzinfo=datetime.UTC)
LATEST_STORED = datetime.datetime(3000, 1, 2, tzinfo=datetime.UTC)


def stored_day_in_range(field: str) -> Q:
    """The check constraint for a date column people fill in (empty allowed)."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__range": (EARLIEST_DAY, LATEST_DAY)})


def stored_moment_in_range(field: str) -> Q:
    """The check constraint for a date-and-time column people fill in (empty allowed)."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": EARLIEST_STORED, f"{field}__lt": LATEST_STORED})


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__({"min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat(), **(attrs or {})}, "%Y-%m-%d")


class DayField(forms.DateField):
    """A date between EARLIEST_DAY and LATEST_DAY, with the browser's date picker."""

    widget = DayInput

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [MinValueValidator(EARLIEST_DAY, OUT_OF_RANGE), MaxValueValidator(LATEST_DAY, OUT_OF_RANGE)]


class MomentInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        bounds = {"min": f"{EARLIEST_DAY.isoformat()}T00:00", "max": f"{LATEST_DAY.isoformat()}T23:59"}
        super().__init__({**bounds, **(attrs or {})}, "%Y-%m-%dT%H:%M")


class MomentField(forms.DateTimeField):
    """A date and time on a day between EARLIEST_DAY and LATEST_DAY, read in the user's time zone."""

    widget = MomentInput

    def to_python(self, value):
        moment = super().to_python(value)
        # The day as typed (in the user's zone): converting 9999-12-31 23:59 first would overflow.
        if moment is not None and not EARLIEST_DAY <= moment.date() <= LATEST_DAY:
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return moment
