"""``{% device_apps device %}``: the device page's apps card (catalogue apps with their install
state, direct assignment) without the device view knowing apps."""

from django import template

from ..models import App, AppInstallation

register = template.Library()


@register.inclusion_tag("mdm/_device_apps.html", takes_context=True)
def device_apps(context, device):
    request = context["request"]
    installations = list(
        AppInstallation.objects.filter(device=device).select_related("app").order_by("app__name")
    )
    direct = list(device.direct_apps.all())
    return {
        "request": request,
        "user": context.get("user"),
        "csrf_token": context.get("csrf_token"),
        "device": device,
        "installations": installations,
        "direct_apps": direct,
        "assignable_apps": App.objects.for_tenant(request.tenant).exclude(
            pk__in=[a.pk for a in direct]
        ),
    }
