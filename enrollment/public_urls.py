"""Device-facing URLs (no session, no CSRF): discovery and the enrollment endpoint."""

from django.urls import include, path

from . import public_views

device_urls = [
    path("enroll/t/<int:number>", public_views.enroll, name="enroll"),
]

urlpatterns = [
    path(
        ".well-known/com.apple.remotemanagement",
        public_views.remote_management,
        name="remote-management",
    ),
    path("", include((device_urls, "enrollment-device"))),
]
