"""Rate limits per API token, or per user for a signed-in browser (settings API_RATE, API_WRITE_RATE)."""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class RequestRateThrottle(SimpleRateThrottle):
    """Every request of a token (or a user without one) counts against API_RATE."""

    scope = "api"
    setting = "API_RATE"

    def __init__(self):
        # Read at request time, not import time, and kept in Redis (shared by every web process).
        self.cache = caches["throttle"]
        super().__init__()

    def get_rate(self) -> str:
        return getattr(settings, self.setting)

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None  # refused before the throttle (401): nothing to count
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WriteRateThrottle(RequestRateThrottle):
    """Writes (anything but GET, HEAD, OPTIONS) count against API_WRITE_RATE as well."""

    scope = "api-write"
    setting = "API_WRITE_RATE"

    def allow_request(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
