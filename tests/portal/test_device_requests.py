"""Device endpoints skip the browsers' middleware (portal.device_requests); nothing else does."""

import json

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path
from django.utils import translation

from mdm.protocol import device_endpoint


def _probe(request):
    seen = {"user": hasattr(request, "user"), "language": translation.get_language()}
    return HttpResponse(json.dumps(seen), content_type="application/json")


@device_endpoint
def _device_probe(request):
    return _probe(request)


urlpatterns = [
    path("mdm/probe", _device_probe),
    path("mdm/plain", _probe),
    path("", include("portal.urls")),
]


@pytest.fixture
def probe_urls():
    with override_settings(ROOT_URLCONF=__name__):
        yield


def test_a_device_endpoint_runs_without_user_session_or_page_language(client, probe_urls):
    translation.activate("de")  # what an earlier request of this thread may have left
    try:
        response = client.get("/mdm/probe", HTTP_ACCEPT_LANGUAGE="de")
    finally:
        translation.deactivate()
    assert response.json() == {"user": False, "language": "en"}
    assert "Set-Cookie" not in str(response.headers) and "Content-Language" not in response
    # The security headers still come first.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_other_views_under_mdm_get_the_whole_chain(client, probe_urls):
    response = client.get("/mdm/plain", HTTP_ACCEPT_LANGUAGE="de")
    assert response.json() == {"user": True, "language": "de"}
    assert response["Content-Language"] == "de"


def test_unknown_device_paths_get_the_portal_404(client):
    response = client.put("/mdm/nothing-here")
    assert response.status_code == 404 and response["Content-Language"] == "en"


def test_the_device_endpoints_are_marked():
    from mdm import public_views

    assert public_views.checkin_view.device_endpoint and public_views.connect_view.device_endpoint
