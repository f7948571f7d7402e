"""REST API authentication and permission (kept apart from viewsets: DRF's settings import
them while its views module is still loading).

API requests act for one tenant: a token is bound to the tenant it was issued for, a
session acts for the tenant chosen in the portal.
"""

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from .middleware import acting_tenant
from .models import ApiToken


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Bearer"

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("account", "tenant")
            .filter(digest=ApiToken.hash(key))
            .first()
        )
        if token is None or not token.account.is_active:
            raise exceptions.AuthenticationFailed("Invalid API token.")
        if token.tenant not in token.account.available_tenants():
            raise exceptions.AuthenticationFailed("The token's tenant is no longer available.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.account, token


def api_tenant(request):
    if isinstance(request.auth, ApiToken):
        return request.auth.tenant
    return acting_tenant(request)


class TenantPermission(permissions.BasePermission):
    """Signed in, acting for a tenant; read-only accounts may only read."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        request.tenant = api_tenant(request)
        if request.tenant is None:
            return False
        return request.method in permissions.SAFE_METHODS or request.user.can_write
