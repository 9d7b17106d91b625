from django import forms
from django.conf import settings

from common.daterange import DayField

from .assignment import rep_with_load_label, reps_with_load
from .models import Deal, Lead, Priority, ReturnReason
from .reps import NO_TEAM


class NoteForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional; shown on the timeline.",
    )


class HandOffForm(NoteForm):
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for the rep",
        help_text="What sales should know: interest, timing, who to talk to.",
    )


class FirstContactForm(NoteForm):
    note = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="How you reached them and what was said."
    )


class ConvertForm(NoteForm):
    value = forms.DecimalField(label="Deal value", min_value=0, max_digits=12, decimal_places=2)
    # The installation's one currency (settings.CURRENCY), not a choice: set in __init__.
    currency = forms.CharField(disabled=True, required=False, widget=forms.HiddenInput)
    expected_close_date = DayField(required=False)
    stage = forms.ChoiceField(
        choices=[(stage, Deal.Stage(stage).label) for stage in (*Deal.OPEN_STAGES, Deal.Stage.WON)],
        initial=Deal.Stage.QUALIFIED,
    )
    field_order = ["value", "currency", "stage", "expected_close_date", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = settings.CURRENCY
        self.fields["value"].help_text = f"In {settings.CURRENCY}."


class ReturnForm(NoteForm):
    """The reasons come from the list managers keep (ReturnReason)."""

    reason = forms.ModelChoiceField(
        queryset=ReturnReason.objects.filter(is_active=True), to_field_name="label", empty_label="— choose a reason —"
    )
    field_order = ["reason", "note"]

    def clean_reason(self):
        return self.cleaned_data["reason"].label


# Leads sit below marketing's campaigns app (which captures and reads leads) and never import it; the
# queue's campaign filter reaches marketing's model through the lead's own foreign key to it.
Campaign = Lead._meta.get_field("campaign").related_model


class QueueFilterForm(forms.Form):
    """The queue's filters and sort, from the query string; anything unknown is a form error."""

    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status=Campaign.Status.ARCHIVED), required=False, empty_label="Any campaign"
    )
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Campaign.Channel.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    order = forms.ChoiceField(
        choices=[("urgent", "Most urgent first"), ("score", "Highest score first"), ("newest", "Newest first")],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"


class RepFilterForm(forms.Form):
    """The teams and targets pages' choice of reps, from the query string: a team (or none) and a name.
    `teams` are the teams the page has read already (no query of its own)."""

    team = forms.ChoiceField(required=False)
    search = forms.CharField(label="Name", max_length=100, required=False)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [
            ("", "Any team"),
            *((str(team.pk), team.name) for team in teams),
            (NO_TEAM, "No team"),
        ]
        self.teams = {str(team.pk): team for team in teams}
        self.fields["team"].widget.attrs["class"] = "form-select"
        self.fields["search"].widget.attrs["class"] = "form-control"
        self.fields["search"].widget.input_type = "search"

    def filters(self) -> dict:
        """Keyword arguments for `reps.reps_where`: the values that were understood."""
        if not self.is_bound:
            return {}
        self.is_valid()
        team = self.cleaned_data.get("team", "")
        return {
            "team": self.teams.get(team),
            "no_team": team == NO_TEAM,
            "search": self.cleaned_data.get("search", ""),
        }


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text="Shown on the timeline."
    )


class AssignForm(forms.Form):
    rep = forms.ModelChoiceField(
        queryset=None, label="Give the lead to", help_text="Each rep's open leads against their capacity."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = reps_with_load()
        self.fields["rep"].label_from_instance = rep_with_load_label
