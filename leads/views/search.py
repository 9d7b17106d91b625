"""The top bar's search results page, for every role (what each finds: `leads.search`)."""

from django import forms
from django.views.generic import TemplateView

from people.roles import ANY_ROLE, RoleRequiredMixin

from ..search import QUERY_MAX, QUERY_MIN, lead_search, sees_every_lead


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search leads",
        min_length=QUERY_MIN,
        max_length=QUERY_MAX,
        error_messages={
            "min_length": f"Type at least {QUERY_MIN} characters of a name, email, company or phone number.",
            "max_length": f"That is too long to search for: {QUERY_MAX} characters at most.",
            "null_characters_not_allowed": "That search contains a character that cannot be searched for.",
        },
    )


class SearchView(RoleRequiredMixin, TemplateView):
    """Leads by name, email, company or phone; a rep's results say whose each lead is."""

    allowed_roles = ANY_ROLE
    template_name = "leads/search.html"

    def get_context_data(self, **kwargs):
        form = SearchForm(self.request.GET) if self.request.GET.get("q", "").strip() else SearchForm()
        result = lead_search(user=self.request.user, query=form.cleaned_data["q"]) if form.is_valid() else None
        return super().get_context_data(
            form=form, result=result, sees_every_lead=sees_every_lead(self.request.user), **kwargs
        )
