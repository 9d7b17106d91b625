from django import forms

from leads.models import Lead

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
        fields = ["full_name", "email", "company", "phone", "score"]
        help_texts = {"score": "0–100: how well the lead fits."}

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_score(self):
        score = self.cleaned_data["score"]
        if score is not None and not 0 <= score <= 100:
            raise forms.ValidationError("The score is between 0 and 100.")
        return score
