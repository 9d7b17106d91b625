from django import forms

from leads.models import Lead

from .capture import normalise_email
from .models import Campaign


class DateInput(forms.DateInput):
    input_type = "date"


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "channel", "status", "start_date", "end_date", "budget", "description"]
        widgets = {
            "start_date": DateInput(format="%Y-%m-%d"),
            "end_date": DateInput(format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_budget(self):
        budget = self.cleaned_data["budget"]
        if budget is not None and budget < 0:
            raise forms.ValidationError("The budget cannot be negative.")
        return budget


class LeadForm(forms.ModelForm):
    """A lead added to a campaign by hand."""

    class Meta:
        model = Lead
        fields = ["full_name", "email", "company", "job_title", "company_size", "phone"]
        help_texts = {"company_size": "Employees, if known. The score comes from the scoring rules."}

    def clean_email(self):
        # Case-folding can lengthen an address (ß → ss): check the stored form fits.
        email = normalise_email(self.cleaned_data["email"])
        if len(email) > Lead._meta.get_field("email").max_length:
            raise forms.ValidationError("This email address is too long.")
        return email
