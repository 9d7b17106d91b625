"""Monthly targets: managers set the department's and each rep's and watch everyone's progress; reps see their
own attainment month by month."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from people.roles import Role, RoleRequiredMixin

from .. import targets
from ..forms import RepFilterForm
from ..models import MonthlyTarget, SalesTeam
from ..reps import REPS_PER_PAGE, reps_order, reps_where

TARGET_DEALS_MAX = 2_147_483_647  # PositiveIntegerField's ceiling in PostgreSQL
_REVENUE = MonthlyTarget._meta.get_field("revenue")


class _TargetInput(forms.BoundField):
    """A target input styled as crispy would style it (`form-control`, `is-invalid` pointing at its
    error), without crispy's per-field template: the page has two inputs per rep."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            attrs["class"] = "form-control is-invalid"
            attrs["aria-describedby"] = f"{self.auto_id}_error"
        return attrs


class TargetRowForm(forms.Form):
    """One row of the targets table: the department (rep left empty) or one rep. Its inputs are
    rendered by `leads/targets/_target_input.html` (the table's header names the columns)."""

    bound_field_class = _TargetInput

    rep = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    deals_won = forms.IntegerField(label="Deals won", min_value=0, max_value=TARGET_DEALS_MAX)
    revenue = forms.DecimalField(
        label="Revenue", min_value=0, max_digits=_REVENUE.max_digits, decimal_places=_REVENUE.decimal_places
    )

    def __init__(self, *args, reps: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.reps = reps
        self.rep_user = reps.get(self.rep_key)
        whose = "the department" if self.rep_key is None else (self.rep_user or "this rep")
        self.fields["deals_won"].widget.attrs["aria-label"] = f"Deals won target for {whose}"
        self.fields["revenue"].widget.attrs["aria-label"] = f"Revenue target for {whose}"
        for name in ("deals_won", "revenue"):
            self.fields[name].widget.attrs["class"] = "form-control"

    @property
    def rep_key(self) -> int | str | None:
        """The row's rep id as sent (None for the department, the raw text when it is not a number)."""
        value = (self["rep"].value() or "").strip() if self.is_bound else self.initial.get("rep")
        if value in ("", None):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return value

    def clean_rep(self):
        if self.rep_key is None:
            return None
        if self.rep_user is None:
            raise ValidationError("This row is not for a sales rep; reload the page.")
        return self.rep_user


class BaseTargetFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        keys = [form.rep_key for form in self.forms]
        if len(keys) != len(set(keys)):
            raise ValidationError("Each rep, and the department, has one row; reload the page.")


TargetFormSet = forms.formset_factory(TargetRowForm, formset=BaseTargetFormSet, extra=0)


class TargetsView(RoleRequiredMixin, TemplateView):
    """The month's targets: the department's, with its progress over every rep, and the reps' a page at a
    time (by team and name, chosen by team and name: `leads.reps`) with theirs; managers set them here. A
    page saves its own rows; its pager saves them before it turns the page, so nothing typed is lost."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "leads/targets/targets.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.now = timezone.now()
        self.current = targets.month_start(self.now)
        raw = request.GET.get("month", "")
        self.month = targets.parse_month(raw) if raw else self.current
        self.bad_month = self.month is None
        self.month = self.month or self.current

    @cached_property
    def filters(self) -> RepFilterForm:
        return RepFilterForm(self.request.GET or None, teams=list(SalesTeam.objects.all()))

    def get(self, request, *args, **kwargs):
        if self.bad_month:
            messages.warning(request, "That is not a month (use YYYY-MM); showing this month.")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.bad_month:
            messages.error(request, "That is not a month (use YYYY-MM); nothing was saved.")
            return redirect("leads:targets")
        # The rows posted, whatever page they were on: the reps the form names, not the page as it is now.
        reps = targets.month_reps(self.month).in_bulk(_posted_reps(request.POST))
        formset = TargetFormSet(request.POST, form_kwargs={"reps": reps})
        if not formset.is_valid():
            messages.error(request, "Nothing was saved: correct the marked targets.")
            overview = targets.month_overview(month=self.month, now=self.now, reps=list(reps.values()))
            return self.render_to_response(self.get_context_data(formset=formset, overview=overview))
        rows = [(row["rep"], row["deals_won"], row["revenue"]) for row in formset.cleaned_data]
        changed = targets.targets_set_bulk(month=self.month, targets=rows, actor=request.user)
        when = f"{self.month:%B %Y}"
        go = request.POST.get("go", "")  # the pager's page, once this one is saved
        if changed:
            messages.success(request, f"Saved {len(changed)} target{'s' if len(changed) != 1 else ''} for {when}.")
        elif not go:
            messages.info(request, f"No target for {when} changed.")
        query = request.GET.copy()
        query["month"] = f"{self.month:%Y-%m}"
        if go.isdecimal():
            query["page"] = go
        return redirect(f"{reverse('leads:targets')}?{query.urlencode()}")

    def get_context_data(self, *, formset=None, overview=None, **kwargs):
        department = targets.department_progress(month=self.month, now=self.now)
        chosen = self.filters.filters()
        if self.filters.errors and self.request.method == "GET":
            messages.warning(self.request, "Some filters were not understood and were left out.")
        reps = (
            targets.month_reps(self.month)
            .filter(reps_where(**chosen, to_team="rep_profile__team"))
            .annotate(team_name=F("rep_profile__team__name"))
            .order_by(*reps_order(to_team="rep_profile__team"))
        )
        page = Paginator(reps, REPS_PER_PAGE).get_page(self.request.GET.get("page"))
        if formset is None:
            overview = targets.month_overview(month=self.month, now=self.now, reps=page.object_list)
            initial = [{"rep": "", **_target_values(department)}]
            initial += [{"rep": rep.pk, **_target_values(progress)} for rep, progress in overview]
            formset = TargetFormSet(initial=initial, form_kwargs={"reps": {rep.pk: rep for rep, _ in overview}})
        progress = {None: department, **{rep.pk: row for rep, row in overview}}
        filter_query = self.request.GET.copy()
        for name in ("month", "page"):
            filter_query.pop(name, None)
        return super().get_context_data(
            month=self.month,
            previous_month=targets.add_months(self.month, -1),
            next_month=targets.add_months(self.month, 1),
            is_current=self.month == self.current,
            is_past=self.month < self.current,
            formset=formset,
            rows=[(form, progress.get(form.rep_key)) for form in formset],
            department=department,
            filters=self.filters,
            page_obj=page,
            filter_query=filter_query.urlencode(),
            time_zone=timezone.get_default_timezone_name(),
            **kwargs,
        )


def _posted_reps(data) -> list[int]:
    """The rep ids of a posted page of rows (the formset's hidden `rep` inputs) that can be ids."""
    values = [value.strip() for key, value in data.items() if key.startswith("form-") and key.endswith("-rep")]
    return [int(value) for value in values if value.isdecimal() and 0 < int(value) < 2**31]


def _target_values(progress: targets.Progress) -> dict:
    return {"deals_won": progress.target_deals or 0, "revenue": progress.target_revenue or targets.ZERO}


class MyTargetsView(RoleRequiredMixin, TemplateView):
    """A rep's attainment this month and in the twelve months before, read-only."""

    allowed_roles = (Role.SALES,)
    template_name = "leads/targets/mine.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        return super().get_context_data(
            targets=targets.home_targets(self.request.user, now),
            history=targets.rep_history(rep=self.request.user, now=now, months=12),
            time_zone=timezone.get_default_timezone_name(),
            **kwargs,
        )
