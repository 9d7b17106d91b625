from django import forms

from common.daterange import DayField
from people.names import person_name
from people.roles import sales_reps

from .models import RoutingDecision


class TimeOffForm(forms.Form):
    """Days off: a manager picks the rep, a rep gets their own."""

    rep = forms.ModelChoiceField(queryset=None, required=False, empty_label=None)
    starts_on = DayField(label="From")
    ends_on = DayField(label="Until", help_text="The last day off (included).")
    note = forms.CharField(max_length=200, required=False, help_text="Holiday, sick day, training …")

    def __init__(self, *args, for_manager: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if for_manager:
            self.fields["rep"].queryset = sales_reps()
            self.fields["rep"].required = True
            self.fields["rep"].label_from_instance = person_name
        else:
            del self.fields["rep"]

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last day off can't be before the first.")
        return cleaned


class RoutingLogFilters(forms.Form):
    rep = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any rep")
    trigger = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = sales_reps()
        self.fields["rep"].label_from_instance = person_name
        self.fields["trigger"].choices = [("", "Any trigger"), *RoutingDecision.Trigger.choices]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"
