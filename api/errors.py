"""Every API error as one JSON shape: {"error": {"code": …, "message": …, "fields": {…}}}.

`code` is stable for programs, `message` is for people, `fields` names each bad input (empty
otherwise). A move the lead's state does not allow is a 409, as is a claim another rep won.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from leads.services import LeadAlreadyClaimed
from leads.transitions import TransitionError


class Conflict(exceptions.APIException):
    """The request is understood but the lead (deal, campaign) is not in a state that allows it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The lead's state does not allow this."
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, LeadAlreadyClaimed):
        exc = Conflict(str(exc), "already_claimed")
    elif isinstance(exc, TransitionError):
        exc = Conflict(str(exc), "refused")
    # Django's own, as DRF would turn them, but here so their codes are known.
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found, or not yours to see.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling (and its logging) takes it
    response.data = {"error": _error_body(exc, response.data)}
    return response


def _error_body(exc, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"code": "invalid", "message": _first_message(fields), "fields": fields}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    message = data.get("detail", "") if isinstance(data, dict) else str(data)
    return {"code": code, "message": str(message), "fields": {}}


def _first_message(fields: dict) -> str:
    """'email: Enter a valid email address.' — the first problem, for a person reading a log line."""
    for name, problems in fields.items():
        problem = problems
        while isinstance(problem, list | dict):
            if not problem:
                break
            problem = next(iter(problem.values())) if isinstance(problem, dict) else problem[0]
        label = "" if name == "non_field_errors" else f"{name}: "
        return f"{label}{problem}"
    return "The request is not valid."


def not_found(request, exception=None):
    """404 for any /api/ path that names no endpoint, in the API's shape rather than an HTML page."""
    body = {"error": {"code": "not_found", "message": "No API endpoint at this address.", "fields": {}}}
    return JsonResponse(body, status=404)
