"""Apple's callbacks (no session, no CSRF; each authenticated by its own token)."""

from django.urls import path

from . import public_views

urlpatterns = [
    path(
        "apple/vpp/notifications/<uuid:mdm_id>",
        public_views.vpp_notification,
        name="apple-vpp-notifications",
    ),
]
