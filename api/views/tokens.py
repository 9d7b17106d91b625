"""The page where a signed-in user issues and revokes their own API tokens."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from people.roles import ANY_ROLE, RoleRequiredMixin, role_required

from ..models import ApiToken
from ..tokens import token_issue, token_revoke, user_tokens


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What the token is for, e.g. “CRM sync”. It acts as you, with your role.",
    )


class TokensView(RoleRequiredMixin, TemplateView):
    """Your tokens (revoked ones too), and a form for a new one; a new key is shown on this answer only."""

    allowed_roles = ANY_ROLE
    template_name = "api/tokens.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", TokenForm())
        return super().get_context_data(tokens=user_tokens(self.request.user), **kwargs)

    def post(self, request, *args, **kwargs):
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        token, key = token_issue(user=request.user, name=form.cleaned_data["name"])
        # Rendered, not redirected: the key exists only in this answer, never in a session or a URL.
        response = self.render_to_response(self.get_context_data(new_token=token, new_key=key))
        response["Cache-Control"] = "no-store"
        return response


@require_POST
@role_required(*ANY_ROLE)
def revoke(request, pk):
    try:
        token = token_revoke(user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404("No such token of yours.") from None
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked: it no longer works.")
    return redirect("api:tokens")
