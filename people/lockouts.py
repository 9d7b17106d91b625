"""Login throttling: how django-axes counts failed logins here, which pairs and addresses it has
locked out as managers see them, and lifting a lockout with axes' own reset.

Failures are counted per username *from one address* and per address alone (settings
`AXES_LOCKOUT_PARAMETERS`), each with a limit of its own: `AXES_FAILURE_LIMIT` for the pair,
`LOGIN_ADDRESS_FAILURE_LIMIT` (higher) for the address, whatever usernames it tries. A username is
never locked from everywhere, so strangers cannot lock a colleague out by guessing at their login;
the price is that guesses from many addresses at one account are slowed only per address.
"""

import datetime
import ipaddress
import logging
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum

from common.addresses import client_ip

logger = logging.getLogger(__name__)

ADDRESS_ALONE = "ip_address"


def login_client_ip(request) -> str | None:
    """The address a login comes from (settings.AXES_CLIENT_IP_CALLABLE), read as web intake reads it
    (INTAKE_TRUSTED_PROXIES); None when that is no IP address (a misconfigured proxy count), so the
    attempt is still counted, for the username from an unknown address, rather than failing."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def failure_limit(parameters: str | list[str]) -> int:
    """The failures one of AXES_LOCKOUT_PARAMETERS' combinations may have before it locks: the
    address alone has a higher limit than a username from that address."""
    return settings.LOGIN_ADDRESS_FAILURE_LIMIT if parameters == ADDRESS_ALONE else settings.AXES_FAILURE_LIMIT


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler (settings.AXES_HANDLER) with a limit for each lockout combination.

    axes sums the failures of each combination, takes the largest sum and compares it with the one
    AXES_FAILURE_LIMIT. This reports instead how close the combination nearest to its own limit is,
    on the scale of AXES_FAILURE_LIMIT: the comparison then locks exactly when any combination has
    reached its own limit. Everything else (recording, cool-off, reset) is axes' own.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        combinations = get_lockout_parameters(request, credentials)
        attempts_per_combination = self.get_user_attempts(request, credentials)
        left = min(
            failure_limit(parameters) - (attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0)
            for parameters, attempts in zip(combinations, attempts_per_combination, strict=True)
        )
        return settings.AXES_FAILURE_LIMIT - left


@dataclass(frozen=True)
class Lockout:
    """A locked-out username from one address, or a locked-out address (username None): its failures,
    and when it unlocks by itself."""

    username: str | None
    ip_address: str | None
    failures: int
    last_failure: datetime.datetime
    until: datetime.datetime


def _locked(fields: tuple[str, ...], *, limit: int, now: datetime.datetime) -> list[Lockout]:
    cooloff = settings.AXES_COOLOFF_TIME
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=now - cooloff, **{f"{fields[0]}__isnull": False})
        .values(*fields)
        .annotate(failures=Sum("failures_since_start"), last_failure=Max("attempt_time"))
        .filter(failures__gte=limit)
        .order_by("-last_failure")
    )
    return [
        Lockout(
            username=row.get("username"),
            ip_address=row["ip_address"],
            failures=row["failures"],
            last_failure=row["last_failure"],
            until=row["last_failure"] + cooloff,
        )
        for row in rows
    ]


def login_lockouts(*, now: datetime.datetime) -> dict[str, list[Lockout]]:
    """The usernames locked out from an address, and the addresses locked out for every username, at
    `now`, most recent failure first."""
    return {
        "pairs": _locked(("username", "ip_address"), limit=settings.AXES_FAILURE_LIMIT, now=now),
        "addresses": _locked(("ip_address",), limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT, now=now),
    }


def lockout_name(*, username: str | None, ip_address: str | None) -> str:
    """How a lockout is named to people: "rep from 203.0.113.7", "rep" or "203.0.113.7"."""
    return " from ".join(filter(None, [username, ip_address]))


def login_unlock(*, actor, username: str = "", ip_address: str = "") -> int:
    """Lift the lockout of a username from one address (both given), of a username from every address
    (the username alone) or of an address for every username (the address alone). Returns how many
    attempt records were dropped."""
    if not (username or ip_address):
        raise ValueError("Unlock a username, an IP address or both.")
    dropped = reset(username=username or None, ip=ip_address or None)
    logger.info(
        "%s unlocked logins for %s (%d attempt records)",
        actor,
        lockout_name(username=username, ip_address=ip_address),
        dropped,
    )
    return dropped
