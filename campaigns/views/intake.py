"""Web-to-lead intake: the JSON endpoint landing pages post to, and the marketer's page for its token."""

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView

from people.roles import MARKETING_SIDE, RoleRequiredMixin

from ..intake import intake_receive, intake_setting, intake_token_rotate
from ..models import Campaign


# CSRF protection stops other sites from riding on a signed-in user's cookies. This endpoint is
# posted to from other sites on purpose, by visitors with no session here; it ignores cookies and
# trusts only the campaign's token in the Authorization header, which a browser never adds on its own,
# so a forged cross-site post carries no authority.
@csrf_exempt
@never_cache
def intake(request, intake_key):
    if request.method == "OPTIONS":
        # The CORS preflight a browser sends before a cross-site JSON post with a token.
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
        response["Access-Control-Max-Age"] = "86400"
    elif request.method != "POST":
        response = JsonResponse({"errors": {"method": ["Use POST."]}}, status=405, headers={"Allow": "POST, OPTIONS"})
    else:
        answer = intake_receive(request, intake_key=intake_key)
        response = JsonResponse(answer.body, status=answer.status, headers=answer.headers)
    # Any landing page may post (the token is the credential, cookies are never used).
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "Retry-After, Idempotent-Replayed"
    return response


@method_decorator(never_cache, name="dispatch")
class IntakeSettingsView(RoleRequiredMixin, DetailView):
    """The campaign's endpoint, examples to copy, and the button that rotates its token."""

    allowed_roles = MARKETING_SIDE
    model = Campaign
    template_name = "campaigns/intake/settings.html"

    def get_context_data(self, **kwargs):
        endpoint = self.request.build_absolute_uri(reverse("campaigns:intake", args=[self.object.intake_key]))
        return super().get_context_data(
            endpoint=endpoint, max_body_bytes=intake_setting("INTAKE_MAX_BODY_BYTES"), **kwargs
        )

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        replaced = bool(self.object.intake_token_hash)
        token = intake_token_rotate(campaign=self.object, actor=request.user)
        # Rendered, not redirected: the token is kept nowhere (no session, no message cookie).
        return self.render_to_response(self.get_context_data(token=token, replaced=replaced))
