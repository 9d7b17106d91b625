from django import forms


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
    currency = forms.ChoiceField(choices=[("EUR", "EUR"), ("USD", "USD"), ("GBP", "GBP"), ("CHF", "CHF")])


class ReturnForm(NoteForm):
    REASONS = [
        ("", "— choose a reason —"),
        ("Not ready to buy", "Not ready to buy"),
        ("Bad contact data", "Bad contact data"),
        ("Duplicate", "Duplicate"),
        ("No budget", "No budget"),
        ("Wrong persona", "Wrong persona"),
        ("Competitor", "Competitor"),
        ("Other", "Other"),
    ]
    reason = forms.ChoiceField(choices=REASONS)
    field_order = ["reason", "note"]
