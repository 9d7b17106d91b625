from django import forms

from replays.models import DEFAULT_WEEKS, MAX_WEEKS


class ReplayForm(forms.Form):
    """How many past weeks to replay a draft on."""

    weeks = forms.TypedChoiceField(
        label="Replay on the last",
        choices=[(weeks, f"{weeks} week{'s' if weeks > 1 else ''}") for weeks in range(1, MAX_WEEKS + 1)],
        coerce=int,
        initial=DEFAULT_WEEKS,
    )
