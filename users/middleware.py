"""Sets ``request.tenant``: the tenant the signed-in account acts for."""

SESSION_KEY = "acting_tenant_id"


def acting_tenant(request):
    user = request.user
    if not user.is_authenticated:
        return None
    tenants = user.available_tenants()
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        tenant = tenants.filter(pk=chosen).first()
        if tenant is not None:
            return tenant
    return tenants.order_by("name").first()


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = acting_tenant(request)
        return self.get_response(request)
