"""Device requests skip the middleware made for people's browsers.

Check-in and connect are Apple's protocol: no cookies, sessions, users, CSRF tokens, messages
or page language, and they are the portal's most frequent requests. For a path under
``/mdm/`` whose view is marked ``device_endpoint`` (``mdm.protocol.device_endpoint``), this
middleware calls the view itself, after the security headers and before everything else;
every other request goes through the whole chain.
"""

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation

DEVICE_PREFIX = "/mdm/"


class DeviceRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(DEVICE_PREFIX):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "device_endpoint", False):
                request.resolver_match = match
                # What a device is answered never depends on the language a previous request
                # of this thread activated.
                translation.activate(settings.LANGUAGE_CODE)
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
