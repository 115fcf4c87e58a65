"""Providers authenticate to the API with a token of theirs (sync.models.ApiToken)."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from sync.models import ApiToken
from sync.services import token_authenticate


class ProviderToken(authentication.BaseAuthentication):
    """``Authorization: Bearer gpm_<prefix>_<secret>``: ``request.auth`` is the ApiToken.

    No header: anonymous (the public endpoints). A header with a token that is unknown,
    revoked or of a provider that is not approved: 401.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after “Bearer ”."))
        token = token_authenticate(raw=header[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
        return None, token  # no user: the token acts for its provider

    def authenticate_header(self, request):
        return self.keyword


class HasScope(permissions.BasePermission):
    """The request carries a provider token with the view's ``required_scope``."""

    message = _("This needs a provider API token with the right scope (created on the dashboard).")

    def has_permission(self, request, view):
        token = request.auth
        return isinstance(token, ApiToken) and view.required_scope in token.scopes


class ProviderTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ProviderToken"
    name = "providerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A provider's API token (gpm_...), created on the provider dashboard.",
        }


class PublicRateThrottle(throttling.AnonRateThrottle):
    """Requests without a token, per client address (the ``anon`` rate)."""

    def get_cache_key(self, request, view):
        return None if request.auth is not None else super().get_cache_key(request, view)


class TokenRateThrottle(throttling.ScopedRateThrottle):
    """A view's ``throttle_scope`` rate, per token (per address without one)."""

    def get_cache_key(self, request, view):
        if request.auth is None:
            return super().get_cache_key(request, view)
        return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
