"""Where a request comes from, read the same way by web intake's rate limits and login throttling."""

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: behind N trusted proxies (INTAKE_TRUSTED_PROXIES), the one the outermost
    proxy saw. Read at call time, so tests can change it with the settings fixture."""
    proxies = settings.INTAKE_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
