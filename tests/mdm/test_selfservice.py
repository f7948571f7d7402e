"""Self-service: the end user signs in with the enrollment credentials, sees their enrolled
devices and the apps offered, and asks for one on a device; the mails link to the page."""

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.db_snapshot import table_counts

pytestmark = pytest.mark.django_db


def _url(tenant, name="index"):
    return reverse(f"enduser-apps:{name}", args=[tenant.number])


def _sign_in(client, tenant, identifier="alice", password=TEST_PASSWORD):
    return client.post(_url(tenant, "login"), {"identifier": identifier, "password": password})


@pytest.fixture
def offer(tenant, managed_user):
    """Alice's enrolled device; an app available to everyone, one to Sales, one automatic."""
    sales = factories.tag(tenant, "Sales")
    device = factories.device(tenant, user=managed_user, product_name="iPhone17,1")
    everyone = factories.catalogue_app(tenant, name="Keynote", install_mode="available")
    for_sales = factories.catalogue_app(
        tenant, name="Salesforce", install_mode="available", tags=[sales]
    )
    automatic = factories.catalogue_app(tenant, name="Numbers")
    return device, everyone, for_sales, automatic, sales


def test_page_needs_sign_in(client, tenant):
    response = client.get(_url(tenant))
    assert response.status_code == 302 and response["Location"] == _url(tenant, "login")


def test_wrong_password_is_refused(client, tenant, managed_user):
    response = _sign_in(client, tenant, password="wrong")
    assert response.status_code == 401 and "not correct" in response.content.decode()
    assert client.get(_url(tenant)).status_code == 302


def test_signed_in_user_sees_devices_and_offered_apps(client, tenant, managed_user, offer):
    device, everyone, for_sales, automatic, sales = offer
    assert _sign_in(client, tenant).status_code == 302
    page = client.get(_url(tenant)).content.decode()
    assert "Keynote" in page and "Salesforce" not in page and "Numbers" not in page
    assert "iPhone 16 Pro" in page
    # A tag of the user's device is enough too.
    device.tags.add(sales)
    assert "Salesforce" in client.get(_url(tenant)).content.decode()


def test_install_requests_the_licence_and_marks_the_device(client, tenant, managed_user, offer):
    from mdm.models import Device, Licence

    device, everyone, *_ = offer
    _sign_in(client, tenant)
    response = client.post(
        _url(tenant, "install"), {"app": everyone.pk, "device": device.pk}, follow=True
    )
    licence = Licence.objects.get(app=everyone, user=managed_user)
    assert licence.requested and Device.objects.get(pk=device.pk).config_due
    page = response.content.decode()
    assert "Keynote is on its way" in page and "Requested" in page


def test_install_of_an_app_offered_through_a_device_tag(client, tenant, managed_user, offer):
    """The offer and the licence request follow one rule (a tag of the user's device counts)."""
    from mdm.models import Licence

    device, _everyone, for_sales, _automatic, sales = offer
    device.tags.add(sales)
    _sign_in(client, tenant)
    response = client.post(
        _url(tenant, "install"), {"app": for_sales.pk, "device": device.pk}, follow=True
    )
    assert "Salesforce is on its way" in response.content.decode()
    assert Licence.objects.get(app=for_sales, user=managed_user).requested


@pytest.mark.parametrize("which", ["automatic", "tagged", "foreign_device", "other_users_device"])
def test_install_refuses_what_is_not_offered(
    client, tenant, other_tenant, managed_user, offer, which
):
    device, everyone, for_sales, automatic, _ = offer
    app, target = everyone, device
    if which == "automatic":
        app = automatic
    elif which == "tagged":
        app = for_sales
    elif which == "foreign_device":
        target = factories.device(other_tenant)
    else:
        target = factories.device(tenant)
    _sign_in(client, tenant)
    before = table_counts()
    response = client.post(
        _url(tenant, "install"), {"app": app.pk, "device": target.pk}, follow=True
    )
    assert "cannot be installed on this device" in response.content.decode()
    assert table_counts() == before


@given(app=st.text(max_size=20), device=st.text(max_size=20))
def test_install_with_any_input_is_never_a_500(client, tenant, managed_user, app, device):
    client.post(_url(tenant, "login"), {"identifier": "alice", "password": TEST_PASSWORD})
    response = client.post(_url(tenant, "install"), {"app": app, "device": device})
    assert response.status_code == 302


def test_other_tenant_session_does_not_carry_over(client, tenant, other_tenant, managed_user):
    _sign_in(client, tenant)
    assert client.get(_url(tenant)).status_code == 200
    assert client.get(_url(other_tenant)).status_code == 302
    assert client.get(reverse("enduser-apps:index", args=[999999])).status_code == 404


def test_changed_password_or_deactivation_ends_the_session(client, tenant, managed_user):
    _sign_in(client, tenant)
    managed_user.set_enrollment_password("another-password-2026")
    managed_user.save()
    assert client.get(_url(tenant)).status_code == 302
    managed_user.set_enrollment_password(TEST_PASSWORD)
    managed_user.save()
    _sign_in(client, tenant)
    managed_user.is_active = False
    managed_user.save()
    assert client.get(_url(tenant)).status_code == 302


def test_sign_out(client, tenant, managed_user):
    _sign_in(client, tenant)
    client.post(_url(tenant, "logout"))
    assert client.get(_url(tenant)).status_code == 302


def test_invitation_and_terms_mails_link_to_the_page(tenant, managed_user, mailoutbox, settings):
    from enrollment import mails
    from enrollment.models import Invitation, TermsOfUse

    mails.send_invitation(Invitation.objects.create(tenant=tenant, user=managed_user))
    session = factories.enrollment_session(managed_user)
    mails.send_terms(session, TermsOfUse(tenant=tenant, version=1, text_en="Be nice."))
    url = settings.PORTAL_BASE_URL + _url(tenant)
    for message in mailoutbox:
        assert url in message.body and url in message.alternatives[0][0]


def test_page_in_german(client, tenant, managed_user, offer):
    client.cookies["django_language"] = "de"
    _sign_in(client, tenant)
    page = client.get(_url(tenant)).content.decode()
    assert "Apps für Ihre Geräte" in page and "Installieren" in page
