"""Locked logins: managers see which usernames (from an address) and addresses are locked out and lift a
lockout."""

from axes.helpers import get_client_username
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from people.lockouts import lockout_name, login_lockouts, login_unlock
from people.roles import Role, RoleRequiredMixin, role_required


def _limits() -> dict[str, int]:
    """What the pages say of the throttling: the two limits and how long a lockout lasts."""
    return {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "address_failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }


def locked_out(request, original_response=None, credentials=None):
    """The answer to a login while its username or address is locked out (settings.AXES_LOCKOUT_CALLABLE)."""
    context = {**_limits(), "username": get_client_username(request, credentials) or ""}
    return render(request, "registration/locked_out.html", context, status=429)


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=255, required=False)
    ip_address = forms.GenericIPAddressField(required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("username") or data.get("ip_address")):
            raise forms.ValidationError("Unlock a username, an IP address or both.")
        return data


class LockoutListView(RoleRequiredMixin, TemplateView):
    allowed_roles = (Role.MANAGERS,)
    template_name = "people/lockouts.html"

    def get_context_data(self, **kwargs):
        locked = login_lockouts(now=timezone.now())
        return super().get_context_data(
            tables=[("Usernames from one address", locked["pairs"]), ("Addresses", locked["addresses"])],
            **_limits(),
            **kwargs,
        )


@require_POST
@role_required(Role.MANAGERS)
def lockout_unlock(request):
    form = UnlockForm(request.POST)
    if form.is_valid():
        login_unlock(actor=request.user, **form.cleaned_data)
        messages.success(request, f"{lockout_name(**form.cleaned_data)} can log in again.")
    else:
        messages.error(request, " ".join(form.non_field_errors() or ["That is no username or IP address."]))
    return redirect("login_lockouts")
