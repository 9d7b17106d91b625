from django import forms

from campaigns.models import Campaign
from common.daterange import DayField
from leads.models import Lead, RepProfile, SalesTeam
from people.names import person_name
from people.roles import sales_reps

from .models import RoutingDecision, RoutingRule, WorkingHours
from .services import RULE_FIELDS


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


class WorkingHoursForm(forms.Form):
    """A rep's own hours, one span per weekday; a day left empty is a day off. All days empty: the
    team's hours."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day, name in WorkingHours.WEEKDAYS:
            for part, label in (("starts", f"{name} from"), ("ends", f"{name} until")):
                self.fields[f"{part}_{day}"] = forms.TimeField(
                    label=label, required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
                )

    @classmethod
    def initial_of(cls, rep) -> dict:
        initial = {}
        for row in WorkingHours.objects.filter(rep=rep):
            initial[f"starts_{row.weekday}"], initial[f"ends_{row.weekday}"] = row.starts, row.ends
        return initial

    def days(self):
        """(weekday name, from field, until field) for the template's rows."""
        return [(name, self[f"starts_{day}"], self[f"ends_{day}"]) for day, name in WorkingHours.WEEKDAYS]

    def clean(self):
        cleaned = super().clean()
        for day, name in WorkingHours.WEEKDAYS:
            if f"starts_{day}" in self.errors or f"ends_{day}" in self.errors:
                continue  # not a time: its own message says so
            starts, ends = cleaned.get(f"starts_{day}"), cleaned.get(f"ends_{day}")
            if (starts is None) != (ends is None):
                missing = f"ends_{day}" if ends is None else f"starts_{day}"
                self.add_error(missing, f"Give {name}'s start and end, or leave both empty for a day off.")
            elif starts is not None and ends is not None and ends <= starts:
                self.add_error(f"ends_{day}", f"{name} must end after it starts ({starts:%H:%M}).")
        return cleaned

    def hours(self) -> dict:
        return {
            day: (self.cleaned_data[f"starts_{day}"], self.cleaned_data[f"ends_{day}"])
            for day, _name in WorkingHours.WEEKDAYS
            if self.cleaned_data.get(f"starts_{day}") is not None
        }


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


class RuleForm(forms.ModelForm):
    """One rule: its conditions (empty ones match anything) and where matching leads go."""

    class Meta:
        model = RoutingRule
        fields = list(RULE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = SalesTeam.objects.order_by("name")
        self.fields["rep"].queryset = sales_reps()
        self.fields["rep"].label_from_instance = person_name
        self.fields["campaign"].queryset = Campaign.objects.exclude(status=Campaign.Status.ARCHIVED).order_by("name")
        self.fields["name"].required = False  # an empty row is no rule; a filled one needs a name (clean)
        self.fields["team"].required = False
        self.fields["team"].empty_label = "Pick a team"
        self.fields["rep"].empty_label = "The team's turns"
        self.fields["campaign"].empty_label = "Any campaign"
        for name, anything in (("channel", "Any channel"), ("source", "Any source"), ("tier", "Any tier")):
            self.fields[name].choices = [("", anything), *self.fields[name].choices[1:]]

    def is_filled(self) -> bool:
        """Whether the row holds a rule: an empty row (the spare ones) is no rule and no error."""
        return any(value not in (None, "") for value in self.cleaned_data.values())

    def clean(self):
        cleaned = super().clean()
        if not self.is_filled():
            return cleaned
        if not cleaned.get("name"):
            self.add_error("name", "Name the rule, e.g. “Enterprise DACH”.")
        if not cleaned.get("team"):
            self.add_error("team", "Say which team gets the leads this rule matches.")
        low, high = cleaned.get("min_company_size"), cleaned.get("max_company_size")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_company_size", f"Never matches: no company has at least {low} and at most {high} employees."
            )
        rep, team = cleaned.get("rep"), cleaned.get("team")
        if rep and team and not RepProfile.objects.filter(user=rep, team=team).exists():
            self.add_error("rep", f"{person_name(rep)} is not in {team}: pick one of its reps, or none.")
        return cleaned


class BaseRuleFormSet(forms.BaseFormSet):
    def clean(self):
        """A rule after one that catches every lead can never match: say which."""
        if any(self.errors):
            return
        catch_all = None
        for number, form in enumerate((f for f in self.forms if f.is_filled()), start=1):
            rule = RoutingRule(**{name: form.cleaned_data.get(name) for name in RULE_FIELDS})
            if catch_all is not None:
                form.add_error(None, f"Never matches: rule {catch_all} (no conditions) catches every lead first.")
            elif rule.is_catch_all:
                catch_all = number
        if any(self.errors):
            raise forms.ValidationError("Some rules need fixing (see below).")

    def rules(self) -> list[dict]:
        return [{name: form.cleaned_data.get(name) for name in RULE_FIELDS} for form in self.forms if form.is_filled()]


RuleFormSet = forms.formset_factory(RuleForm, formset=BaseRuleFormSet, extra=2, max_num=200, validate_max=True)


class PreviewForm(forms.Form):
    lead = forms.CharField(label="Lead", max_length=254, help_text="The lead's number or email address.")

    def clean_lead(self):
        value = self.cleaned_data["lead"].strip()
        found = (
            Lead.objects.filter(pk=int(value))
            if value.isascii() and value.isdigit()
            else Lead.objects.filter(email__iexact=value)
        ).first()
        if found is None:
            raise forms.ValidationError(f"No lead “{value}”: give its number (from its page) or its email address.")
        return found
