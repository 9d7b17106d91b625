"""Every time a signed-in user sees is in their own time zone (their preferences)."""

from django.utils import timezone

from notifications.services import time_zone_of


class UserTimeZoneMiddleware:
    """Activate the signed-in user's time zone for the request, the site's zone for everyone else.

    Always activates or deactivates: a worker thread serves many users, and the zone of the previous
    request must never leak into the next.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            timezone.activate(time_zone_of(request.user))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
