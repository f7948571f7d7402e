from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    tenants = user.available_tenants() if user is not None and user.is_authenticated else []
    return {
        "acting_tenant": getattr(request, "tenant", None),
        "switchable_tenants": tenants
        if user is not None and user.is_authenticated and user.role == "reseller"
        else [],
        "portal_base_url": settings.PORTAL_BASE_URL,
    }
