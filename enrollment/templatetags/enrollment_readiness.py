from django import template

from enrollment.readiness import missing_steps

register = template.Library()


@register.simple_tag
def enrollment_missing_steps(tenant):
    """``{% enrollment_missing_steps acting_tenant as missing %}``: what blocks enrollment."""
    return missing_steps(tenant) if tenant is not None else []
