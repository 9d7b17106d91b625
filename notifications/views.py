"""The notification centre and each user's own preferences: any signed-in user, their own data only."""

import functools

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.forms.utils import flatatt
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import ListView, UpdateView

from notifications.models import Notification, UserPreferences, time_zone_names
from notifications.services import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_of,
    preferences_edit,
)


class NotificationListView(LoginRequiredMixin, ListView):
    template_name = "notifications/list.html"
    context_object_name = "notifications"
    paginate_by = 25

    def get_queryset(self):
        return notifications_of(self.request.user)


def _back(request):
    """Where the user came from, if it is one of our pages; the notification centre otherwise."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications")


@require_POST
@login_required
def mark_read(request, pk: int):
    try:
        notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    return _back(request)


@require_POST
@login_required
def mark_all_read(request):
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return _back(request)


@functools.cache
def _time_zone_regions() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every zone grouped by region ("Africa", "America", …; zones without one under "Other" last)."""
    regions: dict[str, list[str]] = {}
    for name in time_zone_names():
        region = name.split("/", 1)[0] if "/" in name else "Other"
        regions.setdefault(region, []).append(name)
    ordered = sorted(regions.items(), key=lambda item: (item[0] == "Other", item[0]))
    return tuple((region, tuple(names)) for region, names in ordered)


class TimeZoneSelect(forms.Select):
    """About 600 zones grouped by region, with a search box (static/js/time_zone.js). The options are
    built with one format_html_join per region: Django's template per option took most of a second."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        groups = format_html_join(
            "",
            '<optgroup label="{}">{}</optgroup>',
            (
                (
                    region,
                    format_html_join(
                        "",
                        '<option value="{}"{}>{}</option>',
                        ((zone, " selected" if zone == value else "", zone.replace("_", " ")) for zone in zones),
                    ),
                )
                for region, zones in _time_zone_regions()
            ),
        )
        return format_html(
            '<input type="search" class="form-control mb-1" id="{id}-search" placeholder="Search, e.g. Berlin"'
            ' aria-label="Search time zones" data-filters="{id}" autocomplete="off">'
            '<select name="{name}"{attrs}>{groups}</select>',
            id=attrs.get("id", name),
            name=name,
            attrs=flatatt(attrs),
            groups=groups,
        )


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[],
        widget=TimeZoneSelect(attrs={"size": 8}),
        help_text="Every date and time in Handoff is shown to you in this zone.",
        error_messages={"invalid_choice": "“%(value)s” is not a time zone we know; pick one from the list."},
    )

    class Meta:
        model = UserPreferences
        fields = ["time_zone", "email_mode", "email_warnings", "email_breaches", "email_returned", "email_assigned"]
        widgets = {"email_mode": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in time_zone_names()]


class PreferencesView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    form_class = PreferencesForm
    template_name = "notifications/preferences.html"
    success_url = reverse_lazy("preferences")
    success_message = "Your preferences are saved."

    def get_object(self, queryset=None):
        return preferences_edit(user=self.request.user)
