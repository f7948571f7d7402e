"""Every view that receives a password or secret hides it from error reports."""

import pytest


@pytest.mark.parametrize(
    "url,field",
    [
        ("/login/", "password"),
        ("/mobile-security/settings/push/upload/", "password"),
        ("/users/import/entra/", "client_secret"),
        ("/api/push-certificate/", "password"),
        ("/account/password/MQ/invalid-token/", "password1"),
        ("/enroll/t/123456/login", "password"),
    ],
)
def test_password_is_a_sensitive_post_parameter(admin_client, tenant, url, field):
    from tests.conftest import TEST_PASSWORD

    response = admin_client.post(url, {field: TEST_PASSWORD, "username": "x"})
    request = response.wsgi_request
    hidden = getattr(request, "sensitive_post_parameters", None)
    assert hidden is not None, f"{url} does not mark sensitive parameters"
    assert hidden == "__ALL__" or field in hidden
