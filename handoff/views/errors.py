"""The page for an error nobody planned for. When the database is what failed (PostgreSQL stopped,
restarting, out of connections), the honest answer is 503 with Retry-After — the service is briefly
unavailable, retry — not the 500 page that says something is broken.

Django calls the 500 handler inside the `except` block of the failure, whichever layer raised it
(a view, a template, a middleware, the session or the login throttle), so the exception is still in
`sys.exc_info()`. Neither page touches the database: no context processors, no session."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

RETRY_AFTER_SECONDS = 30


def database_failed() -> bool:
    """Whether the exception being handled is the database failing to answer."""
    exc = sys.exc_info()[1]
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@requires_csrf_token
def server_error(request):
    if database_failed():
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
