"""Device requests skip the middleware made for people's browsers.

Discovery, the enrollment POST, SCEP, check-in and connect are Apple's protocols: no cookies,
sessions, users, CSRF tokens, messages or page language (their texts are not translated), and
they are every device's requests. For a path under one of ``DEVICE_PREFIXES`` whose URL is one
of ``DEVICE_VIEWS``, this middleware calls the view itself, after the security headers and
before everything else; every other request (the web login under ``/enroll/`` too) goes
through the whole chain.
"""

from django.conf import settings
from django.urls import Resolver404, resolve
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


class DeviceRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(DEVICE_PREFIXES):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.view_name in DEVICE_VIEWS:
                request.resolver_match = match
                # What a device is answered never depends on the language a previous request
                # of this thread activated.
                translation.activate(settings.LANGUAGE_CODE)
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
