"""Handoff's one way of writing dates and times (issue 23), for British English (LANGUAGE_CODE).

Templates name these (`{{ lead.created_at|date:"DATETIME_FORMAT" }}`), never a format of their own,
and Python text goes through common.localtime (`moment_text`, `day_text`); a test walks the templates
for strays (handoff/tests/test_date_formats.py). A moment is shown in the viewer's time zone (their
preference, else TIME_ZONE). Names Django does not find here fall back to its own en_GB formats
(the input formats, for one).
"""

DATE_FORMAT = "j M Y"  # 7 Dec 2026
DATETIME_FORMAT = "j M Y H:i T"  # 7 Dec 2026 05:47 CET: people in other zones read the same page
TIME_FORMAT = "H:i"  # 05:47
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j M"  # 7 Dec
SHORT_DATE_FORMAT = "D j M Y"  # Mon 7 Dec 2026: a day on a calendar, where the weekday matters
SHORT_DATETIME_FORMAT = "D j M H:i"  # Mon 7 Dec 05:47: a moment in the coming or last few days, in lists
