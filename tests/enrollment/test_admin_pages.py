"""Admin pages: profiles, terms, devices, register and invite dialogs' endpoints."""

import pytest

from enrollment.models import Invitation, Profile
from enrollment.simulator.device import EnrollmentFailed


def test_profiles_crud_keeps_one_default(admin_client, tenant):
    for name in ("A", "B"):
        response = admin_client.post(
            "/mobile-security/profiles/new/",
            {
                "kind": "user_registration",
                "name": name,
                "organization": "Contoso",
                "is_default": "on",
            },
        )
        assert response.status_code == 302
    assert list(Profile.objects.filter(is_default=True).values_list("name", flat=True)) == ["B"]
    page = admin_client.get("/mobile-security/profiles/").content.decode()
    assert "User registration profile" in page and "Default for personal devices" in page


def test_profile_with_bad_pem_is_a_form_error(admin_client, tenant):
    response = admin_client.post(
        "/mobile-security/profiles/new/",
        {"kind": "user_registration", "name": "X", "trusted_certificates": "not a cert"},
    )
    assert response.status_code == 200
    assert "PEM" in response.content.decode()
    assert not Profile.objects.exists()


def test_readonly_cannot_create_profiles(readonly_client, tenant):
    assert readonly_client.get("/mobile-security/profiles/new/").status_code == 403


def test_publishing_terms_makes_versions(admin_client, tenant):
    from enrollment.terms import current_terms

    admin_client.post("/mobile-security/profiles/terms/", {"text_en": "One", "text_de": "Eins"})
    admin_client.post("/mobile-security/profiles/terms/", {"text_en": "Two", "text_de": ""})
    assert current_terms(tenant).version == 2
    assert current_terms(tenant).text_for("de") == "Two"  # falls back to English


def test_register_search_lists_only_users_with_managed_apple_id(admin_client, managed_user):
    from users.models import ManagedUser

    ManagedUser.objects.create(tenant=managed_user.tenant, username="noid", email="n@x.example")
    answer = admin_client.get("/mobile-security/devices/register/users").json()
    results = answer["results"]
    assert [r["address"] for r in results] == ["alice-123456@localhost"]
    assert results[0]["has_password"] is True
    # The left-out user is explained, with a link to the users without a managed Apple ID.
    assert answer["without_apple_id"] == 1
    assert "has no managed Apple ID" in answer["without_apple_id_message"]
    assert answer["fix_url"] == "/users/?apple_id=missing"


def test_register_search_says_when_nothing_matches(admin_client, managed_user):
    answer = admin_client.get("/mobile-security/devices/register/users", {"q": "zzz"}).json()
    assert answer["results"] == [] and "matches “zzz”" in answer["no_match"]
    assert answer["without_apple_id"] == 0 and "fix_url" not in answer


def test_register_search_is_tenant_scoped(other_admin_client, managed_user):
    answer = other_admin_client.get("/mobile-security/devices/register/users").json()
    assert answer["results"] == [] and answer["without_apple_id"] == 0


def test_invite_records_and_mails(
    admin_client, managed_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/mobile-security/devices/invite/", {"user": managed_user.pk, "kind": "adue"}
        )
    assert response.status_code == 200 and response.json()["ok"]
    invitation = Invitation.objects.get()
    assert invitation.send_count == 1 and invitation.last_sent_at
    mail = mailoutbox[0]
    assert mail.to == ["alice@contoso.example"]
    assert "alice-123456@localhost" in mail.body
    assert "VPN & Device Management" in mail.body
    html = mail.alternatives[0][0]
    assert "alice-123456@localhost" in html
    # Re-send from the invitations page.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/mobile-security/devices/invitations/{invitation.pk}/resend/")
    invitation.refresh_from_db()
    assert invitation.send_count == 2 and len(mailoutbox) == 2


def test_invitation_in_german_with_password_link(
    admin_client, managed_user, mailoutbox, django_capture_on_commit_callbacks
):
    managed_user.language = "de"
    managed_user.enrollment_password = ""
    managed_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/mobile-security/devices/invite/", {"user": managed_user.pk})
    body = mailoutbox[0].body
    assert "Einstellungen" in body
    assert "/set-password/" in body or "password" in body.lower()


def test_invite_refuses_users_without_mail(admin_client, managed_user):
    managed_user.email = ""
    managed_user.save()
    response = admin_client.post("/mobile-security/devices/invite/", {"user": managed_user.pk})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_invitation_link_marks_opened(client, managed_user, tenant):
    invitation = Invitation.objects.create(tenant=tenant, user=managed_user)
    page = client.get(f"/invitation/{invitation.link_id}/")
    assert "alice-123456@localhost" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.opened_at is not None


@pytest.mark.django_db(transaction=True)
def test_device_pages_and_removal(admin_client, enrolled):
    from mdm.models import Device

    device = Device.objects.get()
    list_page = admin_client.get("/mobile-security/devices/?view=list").content.decode()
    # The inventory asked right after enrollment names the model as a person knows it.
    assert "iPhone 16 Pro Max" in list_page and "Account-based User Enrollment" in list_page
    detail = admin_client.get(f"/mobile-security/devices/{device.pk}/").content.decode()
    assert device.enrollment_id in detail and "present" in detail
    for step in (
        "web login",
        "Enrollment profile delivered",
        "identity certificate pinned",
        "push token received",
    ):
        assert step in detail, step
    assert admin_client.post(f"/mobile-security/devices/{device.pk}/remove/").status_code == 302
    assert Device.objects.get().status == Device.Status.REMOVING
    # The removed enrollment's next connect gets RemoveProfile, then it is refused for good.
    with pytest.raises(EnrollmentFailed) as refused:
        enrolled.connect()
    assert [c["Command"]["RequestType"] for c in enrolled.commands_answered][-1] == "RemoveProfile"
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["code"] == "com.apple.unrecognized.device"
    assert Device.objects.get().status == Device.Status.UNENROLLED
    # An unenrolled device is forgotten on the second removal.
    assert admin_client.post(f"/mobile-security/devices/{device.pk}/remove/").status_code == 302
    assert not Device.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_devices_api(api_client, other_api_client, enrolled):
    data = api_client.get("/api/devices/").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert rows[0]["labels"] == ["Terms not accepted"]
    other = other_api_client.get("/api/devices/").json()
    assert (other["results"] if isinstance(other, dict) else other) == []


def test_profile_delete(admin_client, tenant):
    profile = Profile.objects.create(tenant=tenant, name="Old")
    assert (
        "Delete “Old”"
        in admin_client.get(f"/mobile-security/profiles/{profile.pk}/delete/").content.decode()
    )
    assert admin_client.post(f"/mobile-security/profiles/{profile.pk}/delete/").status_code == 302
    assert not Profile.objects.exists()


def test_enrollment_address_api(api_client, managed_user):
    data = api_client.get(f"/api/enrollment-addresses/{managed_user.pk}/").json()
    assert data == {
        "user": managed_user.pk,
        "address": "alice-123456@localhost",
        "managed_apple_id": "alice@contoso.appleid.com",
        "has_password": True,
    }


def test_openapi_schema_lists_the_new_endpoints(admin_client):
    schema = admin_client.get("/api/schema/").content.decode()
    for path in (
        "/api/devices/",
        "/api/profiles/",
        "/api/invitations/",
        "/api/enrollment-addresses/{id}/",
        "/api/push-certificate/",
        "/api/vpp-token/",
        "/api/users/",
        "/api/user-imports/csv/",
        "/api/user-imports/entra/",
    ):
        assert path in schema, path
