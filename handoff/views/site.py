"""Site-wide bits every page relies on: signing out with a word of confirmation, and the favicon."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.views.generic import RedirectView


class LogoutView(auth_views.LogoutView):
    """Django's sign-out, then a message on the login page so the user knows it worked."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You are signed out.")
        return response


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links: send them to the static icon."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        # Resolved per request, not at import: the hashed static name exists only after collectstatic.
        return static("favicon.svg")
