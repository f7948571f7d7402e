"""API answers the schema promises that schemathesis does not check (its positive-data check is
off for business rules): PATCH {} is a no-op, singletons are objects, JSON 404s."""

import pytest

from enrollment.models import Profile


@pytest.fixture
def profile(tenant):
    return Profile.objects.create(
        tenant=tenant, name="Personal", organization="IT", is_default=True
    )


def test_patch_with_empty_body_changes_nothing(api_client, profile, managed_user):
    for url in (f"/api/profiles/{profile.pk}/", f"/api/users/{managed_user.pk}/"):
        before = api_client.get(url).json()
        response = api_client.patch(url, {}, format="json")
        assert response.status_code == 200, response.content
        assert response.json() == {**before, "updated_at": response.json()["updated_at"]}


def test_singletons_are_objects(api_client):
    for url in ("/api/push-certificate/", "/api/vpp-token/", "/api/user-imports/entra/"):
        body = api_client.get(url).json()
        assert isinstance(body, dict) and ("installed" in body or "configured" in body)


def test_unknown_api_url_is_json_404(api_client):
    response = api_client.get("/api/profiles/1.5/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_booleans_and_strings_are_strict(api_client):
    response = api_client.post(
        "/api/users/", {"username": "dora", "email": "d@x.example", "is_active": 1}, format="json"
    )
    assert response.status_code == 400 and "is_active" in response.json()
    response = api_client.post(
        "/api/users/", {"username": "dora", "email": "d@x.example", "tags": [7]}, format="json"
    )
    assert response.status_code == 400
