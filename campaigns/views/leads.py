"""Marketing's lead list (search, filters, keyset pages, bulk hand-off) and the returned-by-sales inbox."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import ListView, TemplateView

from common.daterange import DayField
from common.paths import back_query, id_path
from leads import services
from leads.duplicates import flag_possible_duplicates
from leads.forms import HandOffForm
from leads.models import Lead
from people.roles import MARKETING_SIDE, RoleRequiredMixin

from .. import lead_lists
from ..models import Campaign

PAGE_SIZES = (50, 100, 250, 500)
# One POST hands off at most this many leads: each is its own transaction, and the answer must come
# back before the browser gives up. It matches the largest page, so "select all" on a page fits.
MAX_BULK_HAND_OFF = 500
# Handed-off and skipped leads are named in the message; past this many of each, the rest are counted.
NAMED = 10
MAX_LEAD_ID = 2**63 - 1


class LeadFilterForm(forms.Form):
    """The lead list's search, filters, sort and page, read from the query string.

    Every field is optional; a value that does not parse is reported and left out, the rest apply.
    """

    search = forms.CharField(required=False, max_length=100, label="Search", help_text="Name, email or company")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name", "id"), required=False, empty_label="Any campaign"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Lead.Status.choices], required=False)
    score_min = forms.IntegerField(label="Score from", required=False, min_value=0, max_value=100)
    score_max = forms.IntegerField(label="Score to", required=False, min_value=0, max_value=100)
    captured_from = DayField(label="Captured from", required=False)
    captured_to = DayField(label="Captured to", required=False)
    order = forms.ChoiceField(
        label="Sort",
        choices=[(name, order.label) for name, order in lead_lists.ORDERS.items()],
        required=False,
    )
    per_page = forms.TypedChoiceField(
        label="Per page", choices=[(n, n) for n in PAGE_SIZES], coerce=int, required=False, empty_value=PAGE_SIZES[0]
    )
    cursor = forms.CharField(label="Page link", required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Bootstrap's classes, set here because the page draws the fields with _filter_field.html, not crispy.
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:  # a value not understood: the field is marked and its errors shown under it
                self.fields[name].widget.attrs["class"] += " is-invalid"
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def clean_order(self):
        return self.cleaned_data["order"] or lead_lists.DEFAULT_ORDER

    def clean_cursor(self):
        token = self.cleaned_data["cursor"]
        if not token:
            return None
        try:
            return lead_lists.Cursor.from_token(token)
        except lead_lists.BadCursor as exc:
            raise forms.ValidationError(f"{exc} Showing the first page.") from exc

    def clean(self):
        data = super().clean()
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", "The highest score cannot be below the lowest.")
        start, end = data.get("captured_from"), data.get("captured_to")
        if start and end and start > end:
            self.add_error("captured_to", "The end date cannot be before the start date.")
        cursor = data.get("cursor")
        # Also when the sort itself was not understood: a cursor only fits the sort it was made for.
        if cursor is not None and cursor.order != data.get("order"):
            self.add_error("cursor", "This page link belongs to another sort. Showing the first page.")
        return data

    def filters(self) -> dict:
        """The valid filters, as keyword arguments of `lead_lists.marketing_leads`."""
        names = ("search", "campaign", "status", "score_min", "score_max", "captured_from", "captured_to")
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class LeadIdsField(forms.Field):
    """The ticked checkboxes (`lead` repeated): distinct lead ids, at most MAX_BULK_HAND_OFF of them."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = []
        for raw in value or []:
            try:
                pk = int(raw)
            except (TypeError, ValueError):
                raise forms.ValidationError("The selection holds something that is not a lead.") from None
            if not 1 <= pk <= MAX_LEAD_ID:
                raise forms.ValidationError("The selection holds something that is not a lead.")
            ids.append(pk)
        return list(dict.fromkeys(ids))

    def validate(self, value) -> None:
        if not value:
            raise forms.ValidationError("Tick at least one lead to hand off.")
        if len(value) > MAX_BULK_HAND_OFF:
            raise forms.ValidationError(
                f"You can hand off at most {MAX_BULK_HAND_OFF} leads at once; you ticked {len(value)}. "
                "Hand them off in smaller batches."
            )


class BulkHandOffForm(HandOffForm):
    """The single hand-off's note, for every ticked lead."""

    lead = LeadIdsField()


def selected_ids(data) -> set[int]:
    """The ticked ids that are numbers, to tick them again when the form comes back with an error."""
    return {int(raw) for raw in data.getlist("lead") if raw.isascii() and raw.isdigit() and len(raw) < 19}


class LeadListView(RoleRequiredMixin, TemplateView):
    """Every lead marketing can work with: searched, filtered, sorted, one keyset page at a time."""

    allowed_roles = MARKETING_SIDE
    template_name = "campaigns/leads/lead_list.html"

    def get_context_data(self, **kwargs):
        filters = LeadFilterForm(self.request.GET)
        filters.is_valid()  # the valid filters apply; the others are named on the page
        chosen = filters.cleaned_data
        page = lead_lists.keyset_page(
            flag_possible_duplicates(lead_lists.marketing_leads(**filters.filters())),
            order=chosen.get("order", lead_lists.DEFAULT_ORDER),
            cursor=chosen.get("cursor"),
            size=chosen.get("per_page", PAGE_SIZES[0]),
        )
        detail, back = id_path("leads:detail"), back_query(self.request)
        for lead in page.leads:
            lead.link = detail(lead.pk) + back  # one path reversed a page, not one a row
        kwargs.setdefault("bulk_form", BulkHandOffForm())
        kwargs.setdefault("selected", set())
        return super().get_context_data(
            filters=filters, page=page, leads=page.leads, max_bulk=MAX_BULK_HAND_OFF, **kwargs
        )


class BulkHandOffView(LeadListView):
    """POST only: hand the ticked leads to sales with one note. A refused lead is named with its
    reason; a form error shows the same list page again, with the ticks and the note kept."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = BulkHandOffForm(request.POST)
        if not form.is_valid():
            context = self.get_context_data(bulk_form=form, selected=selected_ids(request.POST))
            return self.render_to_response(context)
        ids = form.cleaned_data["lead"]
        leads = lead_lists.leads_by_ids(ids)
        handed_off, refused = services.leads_hand_off_bulk(
            leads=leads, actor=request.user, note=form.cleaned_data["note"]
        )
        found = {lead.pk for lead in leads}
        skipped = [(lead.full_name, reason) for lead, reason in refused]
        skipped += [(f"lead #{pk}", "it no longer exists") for pk in ids if pk not in found]
        level = messages.WARNING if skipped else messages.SUCCESS
        messages.add_message(request, level, hand_off_summary([lead.full_name for lead in handed_off], skipped))
        query = request.GET.urlencode()
        return redirect(f"{reverse('campaigns:leads')}{'?' if query else ''}{query}")


def hand_off_summary(handed_off: list[str], skipped: list[tuple[str, str]]) -> str:
    """'2 handed to sales; 1 skipped: Bob (reason). Handed to sales: Ada Lovelace, Cy.' from the names
    handed off and (name, reason) pairs: every ticked lead is either named as moved or with its reason."""
    summary = f"{len(handed_off)} handed to sales"
    if skipped:
        named = ", ".join(f"{name} ({reason.rstrip('.')})" for name, reason in skipped[:NAMED])
        summary = f"{summary}; {len(skipped)} skipped: {named}{_more(skipped)}"
    if handed_off:
        summary = f"{summary}. Handed to sales: {', '.join(handed_off[:NAMED])}{_more(handed_off)}"
    return f"{summary}."


def _more(names: list) -> str:
    rest = len(names) - NAMED
    return f" and {rest} more" if rest > 0 else ""


class ReturnedInboxView(RoleRequiredMixin, ListView):
    """Leads sales sent back, with the rep's reason and note, for marketing to re-nurture or disqualify."""

    allowed_roles = MARKETING_SIDE
    template_name = "campaigns/leads/returned.html"
    context_object_name = "leads"
    paginate_by = 50

    def get_queryset(self):
        return lead_lists.returned_leads()
