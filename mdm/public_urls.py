"""Device-facing URLs (no session, no CSRF)."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("mdm/checkin", public_views.checkin_view, name="mdm-checkin"),
    path("mdm/connect", public_views.connect_view, name="mdm-connect"),
]
