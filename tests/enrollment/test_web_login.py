"""The web login the device opens in ASWebAuthenticationSession."""

from urllib.parse import parse_qs, urlsplit

import pytest

from enrollment.models import EnrollmentSession, TermsAcceptance
from tests.conftest import TEST_PASSWORD

URL = "/enroll/t/123456/login"


def login(client, identifier="alice-123456@localhost", password=TEST_PASSWORD, **extra):
    return client.post(URL, {"identifier": identifier, "password": password, **extra})


def test_page_prefills_the_address_and_names_the_tenant(client, address):
    response = client.get(URL, {"user-identifier": address})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Contoso" in page and f'value="{address}"' in page
    assert "Be nice." in page  # the terms are on the page


def test_german_page(client, address):
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="de-DE")
    assert "Sei nett." in response.content.decode()
    assert "Anmelden" in response.content.decode()


@pytest.mark.parametrize("identifier", ["alice-123456@localhost", "ALICE", "alice"])
def test_success_is_308_to_the_callback_with_an_opaque_token(client, address, identifier):
    response = login(client, identifier)
    assert response.status_code == 308
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc) == (
        "apple-remotemanagement-user-login",
        "authentication-results",
    )
    token = parse_qs(location.query)["access-token"][0]
    session = EnrollmentSession.objects.get()
    assert session.token_hash == EnrollmentSession.hash_token(token)
    assert token not in session.token_hash  # stored hashed only


def test_terms_can_be_accepted_at_sign_in(client, address):
    login(client, accept_terms="on")
    assert TermsAcceptance.objects.filter(session=EnrollmentSession.objects.get()).exists()


def test_wrong_password_unknown_user_and_other_tenant_fail_alike(client, address, other_tenant):
    for identifier, password in [
        ("alice", "wrong"),
        ("nobody", TEST_PASSWORD),
        ("alice-654321@localhost", TEST_PASSWORD),
    ]:
        response = login(client, identifier, password)
        assert response.status_code == 401
    assert not EnrollmentSession.objects.exists()


def test_inactive_user_cannot_sign_in(client, address, managed_user):
    managed_user.is_active = False
    managed_user.save()
    assert login(client).status_code == 401


def test_login_is_throttled(client, address):
    for _ in range(5):
        assert login(client, password="wrong").status_code == 401
    assert login(client).status_code == 429
    assert not EnrollmentSession.objects.exists()


def test_unknown_tenant_is_404(client, address):
    assert client.get("/enroll/t/999999/login").status_code == 404
