from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from common.daterange import DayField
from leads.models import Lead
from people.names import person_name

from . import queries
from .capture import normalise_email
from .models import Campaign

MONEY_HELP = "In {currency} (the installation's currency), e.g. 12500.00."


class CampaignForm(forms.ModelForm):
    """Everything a marketer edits on a campaign. Archiving is its own action, not a status to pick."""

    class Meta:
        model = Campaign
        field_classes = {"start_date": DayField, "end_date": DayField}
        fields = [
            "name",
            "channel",
            "status",
            "start_date",
            "end_date",
            "budget",
            "actual_spend",
            "objective",
            "target_audience",
            "target_mqls_per_month",
            "description",
            "utm_source",
            "utm_medium",
            "utm_campaign",
        ]
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "actual_spend": "What the campaign has cost so far; the results page divides it by leads, MQLs and deals.",
            "objective": "What the campaign should achieve, e.g. “40 demo requests from logistics firms”.",
            "target_mqls_per_month": "The results page compares each month's MQLs with this; 0 means no target.",
            "utm_source": "Tracking parameters the campaign's links carry, e.g. newsletter / email / spring-launch.",
        }
        error_messages = {
            "target_mqls_per_month": {"min_value": "The monthly MQL target cannot be negative."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget"].help_text = MONEY_HELP.format(currency=settings.CURRENCY)
        # Nothing spent and no target yet are the usual start: empty means 0.
        for name in ("actual_spend", "target_mqls_per_month"):
            self.fields[name].required = False
        if self.instance.is_archived:
            # Its status is "archived" until someone unarchives it; the edit form cannot change that.
            del self.fields["status"]
        else:
            self.fields["status"].choices = [
                choice for choice in Campaign.Status.choices if choice[0] != Campaign.Status.ARCHIVED
            ]

    def _not_negative(self, field: str, what: str):
        amount = self.cleaned_data[field]
        if amount is not None and amount < 0:
            raise forms.ValidationError(f"The {what} cannot be negative.")
        return amount

    def clean_budget(self):
        return self._not_negative("budget", "budget")

    def clean_actual_spend(self):
        spend = self._not_negative("actual_spend", "actual spend")
        return 0 if spend is None else spend

    def clean_target_mqls_per_month(self):
        target = self.cleaned_data["target_mqls_per_month"]
        return 0 if target is None else target


class CampaignFilterForm(forms.Form):
    """The campaign list's search, filters and sort, from the query string; every value is checked."""

    q = forms.CharField(label="Name contains", max_length=200, required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Campaign.Channel.choices], required=False)
    status = forms.ChoiceField(
        choices=[
            (queries.NOT_ARCHIVED, "All but archived"),
            *Campaign.Status.choices,
            (queries.ANY_STATUS, "Any, archived too"),
        ],
        required=False,
    )
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any owner")
    date_from = DayField(label="Running from", required=False)
    date_to = DayField(label="Running until", required=False)
    sort = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in queries.CAMPAIGN_SORTS.items()], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owners = get_user_model().objects.filter(campaigns__isnull=False).distinct()
        self.fields["owner"].queryset = owners.order_by("first_name", "last_name", "username")
        self.fields["owner"].label_from_instance = person_name
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-control" if name in ("q", "date_from", "date_to") else "form-select"

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            # Which end is wrong is anyone's guess: leave the whole range out.
            del cleaned["date_from"]
            self.add_error("date_to", "“Running until” must not be before “Running from”.")
        return cleaned

    def filters(self) -> dict:
        """Keyword arguments for `queries.campaign_list`: the values that were understood."""
        if not self.is_bound:
            return {}
        self.is_valid()
        chosen = self.cleaned_data
        return {
            "search": chosen.get("q", ""),
            "channel": chosen.get("channel", ""),
            "status": chosen.get("status", queries.NOT_ARCHIVED),
            "owner": chosen.get("owner"),
            "date_from": chosen.get("date_from"),
            "date_to": chosen.get("date_to"),
            "sort": chosen.get("sort") or queries.DEFAULT_SORT,
        }


class LeadForm(forms.ModelForm):
    """A lead added to a campaign by hand."""

    class Meta:
        model = Lead
        field_classes = {"start_date": DayField, "end_date": DayField}
        fields = ["full_name", "email", "company", "job_title", "company_size", "country", "phone"]
        help_texts = {"company_size": "Employees, if known. The score comes from the scoring rules."}

    def clean_email(self):
        # Case-folding can lengthen an address (ß → ss): check the stored form fits.
        email = normalise_email(self.cleaned_data["email"])
        if len(email) > Lead._meta.get_field("email").max_length:
            raise forms.ValidationError("This email address is too long.")
        return email
