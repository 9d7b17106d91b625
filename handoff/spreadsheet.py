"""Cells for CSV files people open in a spreadsheet.

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before
one) as a formula, so a lead named `=HYPERLINK(...)` could run in a manager's export. Every exported
cell goes through `neutralise_cell`.
"""

from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value) -> str:
    """`value` as text, with a leading apostrophe when a spreadsheet would read it as a formula.
    None is the empty string; a number is written as it is (a negative number is no formula)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
