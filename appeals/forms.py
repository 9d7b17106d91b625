from django import forms

from appeals.models import Appeal, AppealRuling, Ruling


class AppealForm(forms.Form):
    reason = forms.CharField(
        label="Why the breach should be excused",
        max_length=Appeal._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: the lead's phone number was wrong; Handoff was down. The other department rules on it.",
    )


class RulingForm(forms.Form):
    outcome = forms.ChoiceField(label="Ruling", choices=Ruling.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Reasons",
        max_length=AppealRuling._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="On the lead's record with the ruling. A ruling is final.",
    )
