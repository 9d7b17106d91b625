"""API tokens: issue one (its key shown once), revoke one, and find whose a presented key is.

A key is `hoff_` and 43 random URL-safe characters (256 bits): looking its hash up is all the
checking it needs, no comparison in constant time.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import ApiToken

KEY_PREFIX = "hoff_"
SHOWN_PREFIX = 12  # "hoff_" and the key's first 7 characters, for telling tokens apart
# last_used_at is a hint for the owner ("used 3 minutes ago"), not an audit log: written at most
# once a minute per token, so a busy client adds no write to most requests.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenRefused(Exception):
    """The presented key is unknown, revoked, or its user is inactive; `code` says which."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def token_issue(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and its key, which is stored nowhere and shown only now."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip(), prefix=key[:SHOWN_PREFIX], key_hash=ApiToken.hash_key(key))
    token.full_clean()
    token.save()
    return token, key


def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of `user`'s own tokens (another's raises ApiToken.DoesNotExist). Revoking a revoked
    token changes nothing: it keeps the time it was first revoked."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_id, user=user)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def user_tokens(user):
    """`user`'s tokens, newest first, revoked ones too."""
    return ApiToken.objects.filter(user=user)


def token_authenticate(key: str) -> ApiToken:
    """The active token whose key this is, with its user loaded; raises TokenRefused otherwise.
    Notes the use (at most once a minute)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
    if token is None:
        raise TokenRefused("This API token is not known. Check it, or issue a new one.", "token_unknown")
    if token.revoked_at is not None:
        raise TokenRefused(
            f"This API token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC. Issue a new one.", "token_revoked"
        )
    if not token.user.is_active:
        raise TokenRefused("The user of this API token is deactivated.", "user_inactive")
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if token.last_used_at is None or token.last_used_at < stale:
        # Conditional, so two requests at once write it once.
        ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk).update(
            last_used_at=now
        )
    return token
