"""The managers' SLA dashboard: the page, its live part, its drill-downs and its CSV exports.

All of them read the same filters from the URL (`DashboardFilterForm`), so a view of the page can be
bookmarked and shared, and a number and the list of leads behind it always agree.
"""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from campaigns.models import Campaign
from common.daterange import DayField
from common.spreadsheet import csv_response
from leads.models import SalesTeam
from people.names import name_of, person_name
from people.roles import Role, RoleRequiredMixin, role_required
from reporting.dashboard import FIGURES, PERIODS, Filters, Period, attention_now, drill, shown_figures, sla_dashboard
from reporting.dashboard_tables import TABLES, Table, drill_table, filters_summary, tables
from reporting.headline import headline

# Seconds between refreshes of the live part (static/js/dashboard_live.js reads it from the page).
LIVE_REFRESH_SECONDS = 10
DRILL_PAGE_SIZE = 50
# A long table's rows on the dashboard (what a manager reads at a glance; the rest on the table's own
# page, TABLE_PAGE_SIZE a page).
DASHBOARD_TABLE_ROWS = 25
TABLE_PAGE_SIZE = 50


class OptionsSelect(forms.Select):
    """A select whose options are written by one format_html_join from its choices, not a template
    each, nor Django's option dictionaries (`optgroups`, an attrs dict and a copy per option): at a
    million leads the Rep list holds ~400 people. Flat choices only; the first option whose value is
    the field's is selected, as Django's single select does."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))

        def options():
            for option_value, label in self.choices:
                text = "" if option_value is None else str(option_value)
                selected = text in chosen
                if selected:
                    chosen.clear()  # one selected option, as Django writes it
                yield text, " selected" if selected else "", label

        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            format_html_join("", '<option value="{}"{}>{}</option>', options()),
        )


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_name(obj)


class ListedPeople(ModelChoiceIterator):
    """A choice field of people's options drawn from `queryset`, a part of what the field accepts, their
    names read as values (`name_of`): no user objects for a list of ~400 reps at a million leads."""

    def __init__(self, field, queryset):
        super().__init__(field)
        self.queryset = queryset

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, *names in self.queryset.values_list("pk", "first_name", "last_name", "username"):
            yield (pk, name_of(*names))


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=list(PERIODS.items()), required=False)
    # Held to the years people may type (1900–2999): a period ending in 9999 overflowed the hour grid.
    start = DayField(required=False)
    end = DayField(required=False)
    team = forms.ModelChoiceField(
        SalesTeam.objects.order_by("name"), required=False, empty_label="All teams", widget=OptionsSelect
    )
    # Anyone who can hold a sales deadline (a manager gets leads escalated twice), as the figures' rows;
    # the list offers the reps only (see __init__).
    rep = RepChoiceField(
        get_user_model()
        .objects.filter(Q(groups__name__in=[Role.SALES, Role.MANAGERS]) | Q(rep_profile__isnull=False))
        .distinct()
        .order_by("first_name", "last_name", "username"),
        required=False,
        empty_label="All reps",
        widget=OptionsSelect,
    )
    campaign = forms.ModelChoiceField(
        Campaign.objects.order_by("name"), required=False, empty_label="All campaigns", widget=OptionsSelect
    )
    channel = forms.ChoiceField(choices=[("", "All channels"), *Campaign.Channel.choices], required=False)
    unassigned = forms.BooleanField(required=False, widget=forms.HiddenInput)
    no_team = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The Rep list offers sales reps, not the managers a head of sales would not look for there; a
        # manager's row in "Sales by rep" still drills down with rep=<their id>, and stays chosen.
        rep = self.fields["rep"]
        listed = Q(groups__name=Role.SALES)
        chosen = self.data.get("rep", "") if self.is_bound else ""
        if chosen.isdigit():
            listed |= Q(pk=int(chosen))
        rep.widget.choices = ListedPeople(rep, rep.queryset.filter(listed))

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            if not (data.get("start") and data.get("end")):
                raise forms.ValidationError("A custom range needs a first and a last day.")
            if data["end"] < data["start"]:
                raise forms.ValidationError("The last day of the range is before the first.")
            if (data["end"] - data["start"]).days > 366:
                raise forms.ValidationError("Choose a range of at most a year.")
        return data

    def filters(self, *, now: datetime.datetime) -> Filters:
        """The filters asked for; the default (this month, everything) when the form is not valid."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = Period.of(
            data.get("period") or "this_month", now=now, first_day=data.get("start"), last_day=data.get("end")
        )
        return Filters(
            period=period,
            team=data.get("team"),
            rep=data.get("rep"),
            campaign=data.get("campaign"),
            channel=data.get("channel") or "",
            unassigned=bool(data.get("unassigned")),
            no_team=bool(data.get("no_team")),
        )


def _filters(request, now: datetime.datetime) -> tuple[DashboardFilterForm, Filters]:
    form = DashboardFilterForm(request.GET or None)
    return form, form.filters(now=now)


def _linker(filters: Filters):
    base = reverse("dashboard_leads")

    def link(figure: str, **overrides) -> str:
        return f"{base}?{filters.query(figure=figure, **overrides)}"

    return link


class DashboardView(RoleRequiredMixin, TemplateView):
    allowed_roles = (Role.MANAGERS,)
    template_name = "reporting/dashboard.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        form, filters = _filters(self.request, now)
        dashboard = sla_dashboard(filters=filters, now=now)
        link = _linker(filters)
        attention = attention_now(filters=filters, now=now)
        links = {figure: link(figure) for figure in FIGURES}
        return super().get_context_data(
            # The stale-sweep banner reads the heartbeat the live part already read.
            sweep_status=attention.sweep,
            form=form,
            filters=filters,
            query=filters.query(),
            dashboard=dashboard,
            tables=tables(dashboard, link, head=DASHBOARD_TABLE_ROWS),
            links=links,
            headline=headline(dashboard, attention, links, now=now),
            custom_period=form["period"].value() == "custom",
            filters_summary=filters_summary(filters),
            # Each tile's number and link, from the one registry (`FIGURES`): a figure equals its list.
            figures=shown_figures(dashboard, link),
            attention=attention,
            live_refresh_seconds=LIVE_REFRESH_SECONDS,
            now=now,
            **kwargs,
        )


@never_cache
@role_required(Role.MANAGERS)
def dashboard_live(request):
    """The live part alone, as an HTML fragment the page swaps in every few seconds."""
    now = timezone.now()
    _, filters = _filters(request, now)
    return render(request, "reporting/_live.html", {"attention": attention_now(filters=filters, now=now), "now": now})


def table_csv(table: Table, filters: Filters) -> HttpResponse:
    """`table` as a CSV download, through the one CSV writer (`common.spreadsheet`)."""
    return csv_response(
        [table.columns, *([cell.value for cell in row] for row in table.rows)],
        filename=f"handoff-{table.name}-{filters.period.first_day}-{filters.period.last_day}.csv",
    )


def _no_link(figure: str, **overrides) -> str:
    """A CSV writes the values, never the links: none are built."""
    return ""


@role_required(Role.MANAGERS)
def dashboard_export(request, table: str):
    """One table of the dashboard as CSV, with the filters of the URL."""
    now = timezone.now()
    _, filters = _filters(request, now)
    source = TABLES.get(table)
    if source is None:
        raise Http404("No such table.")
    # Only the parts of the figures this table shows are read.
    dashboard = sla_dashboard(filters=filters, now=now, parts=source.parts)
    return table_csv(source.build(dashboard, _no_link), filters)


class DashboardTableView(RoleRequiredMixin, TemplateView):
    """One table of the dashboard whole, a page at a time, with the dashboard's filters: only the parts
    of the figures it shows are read, only the page's rows built."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "reporting/dashboard_table.html"

    def get_context_data(self, *, table: str, **kwargs):
        now = timezone.now()
        form, filters = _filters(self.request, now)
        source = TABLES.get(table)
        if source is None:
            raise Http404("No such table.")
        dashboard = sla_dashboard(filters=filters, now=now, parts=source.parts)
        whole = source.build(dashboard, _linker(filters))
        page = Paginator(whole.rows, TABLE_PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            summary=filters_summary(filters),
            table=whole.with_rows(page.object_list),
            page_obj=page,
            query=filters.query(),
            dashboard_query=filters.query(unassigned=None, no_team=None),
            **kwargs,
        )


class DashboardLeadsView(RoleRequiredMixin, TemplateView):
    """The leads behind one figure of the dashboard, with the same filters; `?format=csv` exports them all."""

    allowed_roles = (Role.MANAGERS,)
    template_name = "reporting/dashboard_leads.html"

    def get(self, request, *args, **kwargs):
        now = timezone.now()
        form, filters = _filters(request, now)
        figure = request.GET.get("figure", "")
        if figure not in FIGURES:
            raise Http404("No such figure.")
        behind = drill(figure, filters=filters, now=now, reason=request.GET.get("reason", ""))
        if request.GET.get("format") == "csv":
            return table_csv(drill_table(figure, behind.title, behind.rows), filters)
        paginator = Paginator(behind.rows, DRILL_PAGE_SIZE)
        if behind.count is not None:
            paginator.count = behind.count  # known from a read model: no COUNT over the rows
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = self.get_context_data(
            form=form,
            filters=filters,
            summary=filters_summary(filters),
            title=behind.title,
            table=drill_table(figure, behind.title, page.object_list),
            page_obj=page,
            query=query.urlencode(),
            dashboard_query=filters.query(unassigned=None, no_team=None),
        )
        return self.render_to_response(context)
