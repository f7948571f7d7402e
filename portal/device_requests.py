"""Device requests skip the middleware made for people's browsers.

Discovery, the enrollment POST, SCEP, check-in and connect are Apple's protocols: no cookies,
sessions, users, CSRF tokens, messages or page language (their texts are not translated), and
they are every device's requests. For a path under one of ``DEVICE_PREFIXES`` whose URL is one
of ``DEVICE_VIEWS``, this middleware calls the view itself, after the security headers and
before everything else; every other request (the web login under ``/enroll/`` too) goes
through the whole chain.
"""

import functools

from django.conf import settings
from django.urls import Resolver404, get_resolver, get_urlconf
from django.utils import translation

DEVICE_PREFIXES = ("/mdm/", "/.well-known/", "/enroll/t/", "/scep/")

# URL names (as the apps name them) of the views devices call.
DEVICE_VIEWS = frozenset(
    {
        "mdm-checkin",
        "mdm-connect",
        "remote-management",
        "enrollment-device:enroll",
        "scep:service",
    }
)


@functools.lru_cache(maxsize=1024)
def _match(resolver, path: str):
    """``resolver.resolve(path)``, or None for a 404: kept per URLconf and path, since device
    paths repeat (a tenant's SCEP and enrollment URLs, check-in, connect) and walking the
    portal's URL patterns took a third of a light device request (GetCACaps). The resolver
    is the cached one of its URLconf, so a changed URLconf (tests) starts afresh; the cache
    is bounded, so odd paths only push older ones out."""
    try:
        return resolver.resolve(path)
    except Resolver404:
        return None


class DeviceRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(DEVICE_PREFIXES):
            match = _match(get_resolver(get_urlconf()), request.path_info)
            if match is not None and match.view_name in DEVICE_VIEWS:
                request.resolver_match = match
                # What a device is answered never depends on the language a previous request
                # of this thread activated.
                translation.activate(settings.LANGUAGE_CODE)
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
