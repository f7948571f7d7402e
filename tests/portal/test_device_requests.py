"""Device endpoints skip the browsers' middleware (portal.device_requests); nothing else does."""

import json

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path
from django.utils import translation

from portal import device_requests


def _probe(request):
    seen = {"user": hasattr(request, "user"), "language": translation.get_language()}
    return HttpResponse(json.dumps(seen), content_type="application/json")


urlpatterns = [
    path("mdm/probe", _probe, name="device-probe"),
    path("mdm/plain", _probe),
    path("", include("portal.urls")),
]


@pytest.fixture
def probe_urls(monkeypatch):
    monkeypatch.setattr(
        device_requests, "DEVICE_VIEWS", device_requests.DEVICE_VIEWS | {"device-probe"}
    )
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


def test_the_device_views_are_named_and_under_the_device_prefixes():
    from django.urls import resolve, reverse

    for name in device_requests.DEVICE_VIEWS:
        kwargs = {"number": 123456} if name.startswith(("enrollment-device:", "scep:")) else {}
        url = reverse(name, kwargs=kwargs)
        assert url.startswith(device_requests.DEVICE_PREFIXES) and resolve(url).view_name == name


@pytest.mark.django_db
def test_discovery_enrollment_and_scep_skip_the_browser_chain(client):
    for url in (
        "/.well-known/com.apple.remotemanagement?user-identifier=x@example.com",
        "/enroll/t/999999",
        "/scep/999999?operation=GetCACaps",
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert "Set-Cookie" not in str(response.headers), url
        assert "Content-Language" not in response, url


@pytest.mark.django_db
def test_the_web_login_under_enroll_keeps_the_whole_chain(client):
    response = client.get("/enroll/t/999999/login", HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "de"
