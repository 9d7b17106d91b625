"""Login throttling as managers see it: which usernames and addresses django-axes has locked out,
and lifting a lockout with axes' own reset.

django-axes counts failed logins per username and per IP address (settings `AXES_*`); a username or
an address with `AXES_FAILURE_LIMIT` failures within `AXES_COOLOFF_TIME` is locked out until that
time has passed since its last failure, or until a manager unlocks it here.
"""

import datetime
import ipaddress
import logging
from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum

from common.addresses import client_ip

logger = logging.getLogger(__name__)


def login_client_ip(request) -> str | None:
    """The address a login comes from (settings.AXES_CLIENT_IP_CALLABLE), read as web intake reads it
    (INTAKE_TRUSTED_PROXIES); None when that is no IP address (a misconfigured proxy count), so the
    attempt is still counted by username rather than failing."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


@dataclass(frozen=True)
class Lockout:
    """One locked-out username or address: what it is, its failures, and when it unlocks by itself."""

    value: str
    failures: int
    last_failure: datetime.datetime
    until: datetime.datetime


def _locked(field: str, *, now: datetime.datetime) -> list[Lockout]:
    cooloff = settings.AXES_COOLOFF_TIME
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=now - cooloff, **{f"{field}__isnull": False})
        .values(field)
        .annotate(failures=Sum("failures_since_start"), last_failure=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_failure")
    )
    return [
        Lockout(
            value=row[field],
            failures=row["failures"],
            last_failure=row["last_failure"],
            until=row["last_failure"] + cooloff,
        )
        for row in rows
    ]


def login_lockouts(*, now: datetime.datetime) -> dict[str, list[Lockout]]:
    """The usernames and the IP addresses locked out at `now`, most recent failure first."""
    return {"usernames": _locked("username", now=now), "addresses": _locked("ip_address", now=now)}


def login_unlock(*, actor, username: str = "", ip_address: str = "") -> int:
    """Lift the lockout of one username (from every address) or of one address (for every username).
    Returns how many attempt records were dropped."""
    if bool(username) == bool(ip_address):
        raise ValueError("Unlock either a username or an IP address.")
    dropped = reset(username=username) if username else reset(ip=ip_address)
    logger.info("%s unlocked logins for %s (%d attempt records)", actor, username or ip_address, dropped)
    return dropped
