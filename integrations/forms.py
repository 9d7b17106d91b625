import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from leads.models import SalesTeam

from .models import Alert, Channel, Endpoint, EventType

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Where Slack's and Teams' incoming webhooks live (Teams: the Office connector, or a Workflows URL).
VENDOR_HOSTS = {
    Channel.Kind.SLACK: ("hooks.slack.com",),
    Channel.Kind.TEAMS: (".webhook.office.com", ".logic.azure.com", ".api.powerplatform.com"),
}


def _https_by_default(field: models.Field, **kwargs) -> forms.Field:
    """An address typed without a scheme means https (Django 6's default)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


def _loopback_allowed(host: str) -> bool:
    """http(s) to this machine only in development and tests (INTEGRATIONS_ALLOW_LOOPBACK)."""
    return settings.INTEGRATIONS_ALLOW_LOOPBACK and host in LOOPBACK_HOSTS


def _host(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower()


def validate_channel_url(url: str, kind: str) -> None:
    scheme, host = _host(url)
    if _loopback_allowed(host):
        return
    if scheme != "https":
        raise ValidationError("Use the https:// address the app gave you.")
    hosts = VENDOR_HOSTS[kind]
    if not any(host == allowed or (allowed.startswith(".") and host.endswith(allowed)) for allowed in hosts):
        vendor = Channel.Kind(kind).label
        raise ValidationError(
            f"That is not a {vendor} incoming-webhook address (it starts https://{hosts[0].lstrip('.')}…)."
        )


def validate_endpoint_url(url: str) -> None:
    """https to a public host: Handoff must not be made to post into its own network."""
    scheme, host = _host(url)
    if _loopback_allowed(host):
        return
    if scheme != "https":
        raise ValidationError("Use an https:// address.")
    if host in LOOPBACK_HOSTS or host.endswith(".localhost") or host.endswith(".local"):
        raise ValidationError("Give an address on the internet, not one on this machine or network.")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if not address.is_global:
        raise ValidationError("Give an address on the internet, not one on this machine or network.")


class ChannelForm(forms.ModelForm):
    """Connect or change a channel. Managers choose a team or themselves; others connect their own.
    The URL is a secret: on a change it is not shown, and left empty it stays as it was."""

    owner = forms.ChoiceField(label="Whose alerts", required=True)
    alerts = forms.MultipleChoiceField(
        choices=Alert.choices, widget=forms.CheckboxSelectMultiple, required=False, label="What is sent"
    )

    class Meta:
        model = Channel
        fields = ["kind", "name", "url", "alerts", "enabled"]
        formfield_callback = _https_by_default

    def __init__(self, *args, user, is_manager: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        choices = [("me", "Mine (assignments to me, my deadlines)")]
        if is_manager:
            choices += [(str(team.pk), f"Team {team.name}") for team in SalesTeam.objects.order_by("name")]
        self.fields["owner"].choices = choices
        self.fields["owner"].initial = str(self.instance.team_id) if self.instance.team_id else "me"
        if len(choices) == 1:
            self.fields["owner"].widget = forms.HiddenInput()
        self.order_fields(["kind", "name", "owner", "url", "alerts", "enabled"])
        if self.instance.pk:
            self.initial["url"] = ""
            self.fields["url"].required = False
            self.fields["url"].help_text = "Leave empty to keep the address you gave; it is not shown again."
        else:
            del self.fields["enabled"]
            self.fields["url"].help_text = "From the channel's incoming webhook (Slack) or workflow (Teams)."
            # A new channel starts with what most want (the instance's empty list would win over setdefault).
            self.initial["alerts"] = [Alert.BREACHES, Alert.WARNINGS, Alert.ASSIGNMENTS, Alert.STORM_SUMMARIES]

    def clean_url(self):
        url = self.cleaned_data.get("url")
        return url or (self.instance.url if self.instance.pk else url)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("url") and cleaned.get("kind"):
            try:
                validate_channel_url(cleaned["url"], cleaned["kind"])
            except ValidationError as error:
                self.add_error("url", error)
        return cleaned

    def save(self, commit=False):
        channel = super().save(commit=False)
        owner = self.cleaned_data["owner"]
        if owner == "me":
            channel.team, channel.person = None, self.user
        else:
            channel.team, channel.person = SalesTeam.objects.get(pk=owner), None
        return channel


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple, label="Events to send"
    )

    class Meta:
        model = Endpoint
        fields = ["name", "url", "events", "payload_version", "enabled"]
        formfield_callback = _https_by_default

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["url"].validators.append(validate_endpoint_url)
        self.fields["url"].help_text = "Where Handoff posts each event, signed (https)."
        if not self.instance.pk:
            del self.fields["enabled"]
