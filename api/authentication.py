"""DRF authentication by API token: `Authorization: Bearer hoff_…`."""

from rest_framework import authentication, exceptions

from .tokens import TokenRefused, token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a request carrying a bearer token; a request without one is left to the next
    class (the browser's session). A wrong or revoked token is a 401 that says which."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”.", "token_malformed"
            )
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "The token holds characters no token has.", "token_malformed"
            ) from None
        try:
            token = token_authenticate(key)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc), exc.code) from exc
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return f'{self.keyword} realm="api"'
