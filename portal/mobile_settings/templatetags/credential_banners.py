from django import template

from ..status import credential_state

register = template.Library()


@register.inclusion_tag("mobile_settings/_banners.html")
def credential_banners(tenant, link=True):
    """Banners for a missing, expiring or expired push certificate or Apps and Books token."""
    return {"state": credential_state(tenant) if tenant else None, "link": link}
