"""Managers keep the business-hours calendars the SLA clocks count in: hours, teams and holidays."""

import re
from datetime import time

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import FormView, ListView

from common.daterange import DayField
from people.roles import Role, RoleRequiredMixin, role_required
from sla.calendar import WEEKDAYS, CalendarError, intervals_check
from sla.models import BusinessCalendar, CalendarHoliday
from sla.models.calendars import calendar_holiday_add, calendar_save, team_model

INTERVAL = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2})(?::(\d{2}))?$")
UPCOMING_HOLIDAYS = 10


def interval_parse(text: str) -> tuple[time, time]:
    match = INTERVAL.match(text.strip())
    if not match:
        raise forms.ValidationError(f"“{text.strip()}” is not an interval like 09:00-17:00.")
    open_hour, open_minute, close_hour, close_minute = (int(part or 0) for part in match.groups())
    if max(open_hour, close_hour) > 23 or max(open_minute, close_minute) > 59:
        raise forms.ValidationError(f"“{text.strip()}” is not a time of day (00:00 to 23:59).")
    return time(open_hour, open_minute), time(close_hour, close_minute)


class CalendarForm(forms.ModelForm):
    """The calendar's fields, one line of opening hours per weekday, and the teams that use it."""

    teams = forms.ModelMultipleChoiceField(
        queryset=team_model().objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Teams whose SLA clocks count in this calendar; the others use the default calendar.",
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "country", "subdivision", "is_default"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        weekly = self.instance.weekly_hours() if self.instance.pk else {}
        for weekday, label in enumerate(WEEKDAYS):
            self.fields[f"hours_{weekday}"] = forms.CharField(
                label=label,
                max_length=200,
                required=False,
                initial=", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in weekly.get(weekday, [])),
                help_text="e.g. 09:00-12:00, 13:00-17:00; empty when closed." if weekday == 0 else "",
            )
        if self.instance.pk:
            self.fields["teams"].initial = list(self.instance.teams.all())

    def _get_validation_exclusions(self):
        # calendar_save takes the default flag from the old default, so a second one is no error here.
        return super()._get_validation_exclusions() | {"is_default"}

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()

    def clean_subdivision(self):
        return self.cleaned_data["subdivision"].strip().upper()

    def _clean_hours(self, weekday: int) -> list[tuple[time, time]]:
        parts = [part for part in self.cleaned_data.get(f"hours_{weekday}", "").split(",") if part.strip()]
        intervals = [interval_parse(part) for part in parts]
        try:
            return list(intervals_check(intervals))
        except CalendarError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        cleaned = super().clean()
        weekly = {}
        for weekday in range(7):
            try:
                weekly[weekday] = self._clean_hours(weekday)
            except forms.ValidationError as exc:
                self.add_error(f"hours_{weekday}", exc)
        if not self.errors and not any(weekly.values()):
            raise forms.ValidationError("A calendar needs open hours on at least one day of the week.")
        cleaned["weekly"] = weekly
        return cleaned


class HolidayForm(forms.ModelForm):
    class Meta:
        model = CalendarHoliday
        fields = ["date", "name"]
        field_classes = {"date": DayField}


class CalendarListView(RoleRequiredMixin, ListView):
    allowed_roles = (Role.MANAGERS,)
    template_name = "sla/calendars/list.html"
    context_object_name = "calendars"

    def get_queryset(self):
        return BusinessCalendar.objects.annotate(
            team_count=Count("teams", distinct=True), holiday_count=Count("holidays", distinct=True)
        ).prefetch_related("opening_hours")


class CalendarFormView(RoleRequiredMixin, FormView):
    """Create a calendar (no pk) or edit one; the edit page also keeps its holidays."""

    allowed_roles = (Role.MANAGERS,)
    form_class = CalendarForm

    def dispatch(self, request, *args, **kwargs):
        pk = kwargs.get("pk")
        self.calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else BusinessCalendar()
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        return ["sla/calendars/edit.html" if self.calendar.pk else "sla/calendars/form.html"]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.calendar}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(calendar=self.calendar, **kwargs)
        if self.calendar.pk:
            context.update(edit_context(self.calendar, kwargs.get("holiday_form") or HolidayForm(prefix="holiday")))
        return context

    def form_valid(self, form):
        try:
            calendar = calendar_save(
                calendar=form.save(commit=False), weekly=form.cleaned_data["weekly"], teams=form.cleaned_data["teams"]
            )
        except CalendarError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"Calendar “{calendar}” saved.")
        return redirect("calendar_edit", pk=calendar.pk)


def edit_context(calendar: BusinessCalendar, holiday_form: HolidayForm) -> dict:
    """What the edit page shows beside the form: added holidays and the public ones ahead."""
    today = timezone.localdate()
    try:
        upcoming = calendar.spec().public_holidays_from(today, UPCOMING_HOLIDAYS) if calendar.country else []
    except CalendarError:
        upcoming = []
    return {
        "holidays": calendar.holidays.filter(date__gte=today),
        "past_holiday_count": calendar.holidays.filter(date__lt=today).count(),
        "holiday_form": holiday_form,
        "upcoming_public_holidays": upcoming,
    }


class CalendarHolidayAddView(CalendarFormView):
    """Close the calendar on a date; a bad or repeated date comes back on the edit page with the
    calendar form as it was."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        holiday_form = HolidayForm(request.POST, prefix="holiday")
        if holiday_form.is_valid():
            try:
                holiday = calendar_holiday_add(calendar=self.calendar, **holiday_form.cleaned_data)
            except CalendarError as exc:
                holiday_form.add_error("date", str(exc))
            else:
                messages.success(request, f"{holiday.name} on {holiday.date:%Y-%m-%d} added.")
                return redirect("calendar_edit", pk=self.calendar.pk)
        form = CalendarForm(instance=self.calendar)
        return self.render_to_response(self.get_context_data(form=form, holiday_form=holiday_form))


@require_POST
@role_required(Role.MANAGERS)
def calendar_holiday_remove(request, pk: int, holiday_pk: int):
    holiday = get_object_or_404(CalendarHoliday, pk=holiday_pk, calendar_id=pk)
    holiday.delete()
    messages.success(request, f"{holiday.name} on {holiday.date:%Y-%m-%d} removed.")
    return redirect("calendar_edit", pk=pk)
