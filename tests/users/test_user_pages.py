"""The Users section: add, edit, search and filter, bulk actions, delete, password links."""

import re

import pytest
from django_otp.oath import TOTP

from users import totp
from users.models import ManagedUser, Tag


def add(client, **fields):
    data = {
        "username": "bob",
        "first_name": "Bob",
        "last_name": "Builder",
        "email": "bob@contoso.example",
        "managed_apple_id": "bob@contoso.appleid.com",
        "language": "en",
        "is_active": "on",
        "tag_names": "sales, berlin",
        **fields,
    }
    return client.post("/users/new/", data)


def test_add_user_with_new_tags(admin_client, tenant):
    assert add(admin_client).status_code == 302
    bob = ManagedUser.objects.get(username="bob")
    assert bob.tenant == tenant and bob.source == ManagedUser.Source.MANUAL
    assert sorted(bob.tags.values_list("name", flat=True)) == ["berlin", "sales"]
    page = admin_client.get(f"/users/{bob.pk}/").content.decode()
    assert "bob-123456@localhost" in page


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"username": "Alice"}, "exists already"),
        ({"username": "bob-x"}, "letters, digits"),
        ({"email": ""}, "required"),
        ({"managed_apple_id": "not an id"}, "valid email"),
    ],
)
def test_add_user_errors(admin_client, managed_user, fields, message):
    response = add(admin_client, **fields)
    assert response.status_code == 200 and message in response.content.decode()
    assert ManagedUser.objects.count() == 1


def test_search_filter_and_pagination(admin_client, tenant):
    sales = Tag.objects.create(tenant=tenant, name="sales")
    for i in range(60):
        user = ManagedUser.objects.create(
            tenant=tenant,
            username=f"user{i:02}",
            email=f"u{i}@x.example",
            is_active=i % 2 == 0,
            managed_apple_id="" if i == 5 else f"u{i}@x.appleid.com",
        )
        if i < 3:
            user.tags.add(sales)
    page = admin_client.get("/users/").content.decode()
    assert page.count('name="selected"') == 50 and "?page=2" in page
    assert admin_client.get("/users/?q=user07").content.decode().count('name="selected"') == 1
    assert admin_client.get("/users/?active=0").content.decode().count('name="selected"') == 30
    assert (
        admin_client.get(f"/users/?tag={sales.pk}").content.decode().count('name="selected"') == 3
    )
    assert (
        admin_client.get("/users/?apple_id=missing").content.decode().count('name="selected"') == 1
    )


def test_bulk_deactivate_and_delete(admin_client, tenant, managed_user):
    other = ManagedUser.objects.create(tenant=tenant, username="zed", email="z@x.example")
    admin_client.post(
        "/users/bulk/", {"action": "deactivate", "selected": [managed_user.pk, other.pk]}
    )
    assert not ManagedUser.objects.filter(is_active=True).exists()
    confirm = admin_client.post("/users/bulk/", {"action": "delete", "selected": [other.pk]})
    assert "Delete 1 user?" in confirm.content.decode()
    admin_client.post(
        "/users/bulk/", {"action": "delete", "selected": [other.pk], "confirm": "yes"}
    )
    assert list(ManagedUser.objects.values_list("username", flat=True)) == ["alice"]


def test_bulk_cannot_touch_another_tenant(other_admin_client, managed_user):
    other_admin_client.post(
        "/users/bulk/", {"action": "delete", "selected": [managed_user.pk], "confirm": "yes"}
    )
    assert ManagedUser.objects.filter(pk=managed_user.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_delete_states_what_happens_to_devices(admin_client, enrolled_device_user):
    user = enrolled_device_user
    page = admin_client.get(f"/users/{user.pk}/delete/").content.decode()
    assert "1 enrolled device stays in the portal without a user" in page
    admin_client.post(f"/users/{user.pk}/delete/")
    from mdm.models import Device

    assert Device.objects.get().user is None


def test_password_link_mail_and_totp_setup(admin_client, client, managed_user, mailoutbox):
    admin_client.post(f"/users/{managed_user.pk}/password-link/")
    link = re.search(r"https?://\S+/set-password/\S+/", mailoutbox[0].body) or re.search(
        r"https?://\S+", mailoutbox[0].body
    )
    path = "/" + link.group(0).split("://", 1)[1].split("/", 1)[1]
    page = client.get(path).content.decode()
    assert "<svg" in page  # the TOTP QR code
    secret = client.get(path).context["totp_uri"]
    assert secret.startswith("otpauth://totp/")
    form = client.get(path).context["form"]
    signed = form.initial["totp_secret"]
    from django.core import signing

    raw = signing.loads(signed, salt="users.totp-setup")
    code = str(TOTP(bytes.fromhex(raw)).token()).zfill(6)
    wrong = client.post(
        path,
        {
            "password1": "a-long-new-passw0rd",
            "password2": "a-long-new-passw0rd",
            "totp_secret": signed,
            "totp_code": "000000" if code != "000000" else "111111",
        },
    )
    assert "not correct" in wrong.content.decode()
    done = client.post(
        path,
        {
            "password1": "a-long-new-passw0rd",
            "password2": "a-long-new-passw0rd",
            "totp_secret": signed,
            "totp_code": code,
        },
    )
    assert done.status_code == 200
    managed_user.refresh_from_db()
    assert managed_user.check_enrollment_password("a-long-new-passw0rd")
    assert totp.is_enabled(managed_user)


def test_totp_codes_work_once(managed_user):
    secret = totp.new_secret()
    totp.enable(managed_user, secret)
    code = str(TOTP(bytes.fromhex(secret)).token()).zfill(6)
    assert totp.verify(managed_user, code)
    assert not totp.verify(managed_user, code)  # replay
    assert not totp.verify(managed_user, "12345")


def test_web_login_asks_for_the_code(client, managed_user, tenant):
    secret = totp.new_secret()
    totp.enable(managed_user, secret)
    url = "/enroll/t/123456/login"
    data = {"identifier": "alice", "password": "correct horse battery staple"}
    response = client.post(url, data)
    assert response.status_code == 200 and 'name="code"' in response.content.decode()
    response = client.post(url, {**data, "code": "000000"})
    assert response.status_code in (200, 401)
    code = str(TOTP(bytes.fromhex(secret)).token()).zfill(6)
    assert client.post(url, {**data, "code": code}).status_code == 308


def test_users_api(api_client, other_api_client, managed_user):
    rows = api_client.get("/api/users/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows[0]["username"] == "alice"
    created = api_client.post(
        "/api/users/", {"username": "dora", "email": "d@x.example", "tags": ["it"]}, format="json"
    )
    assert created.status_code == 201 and created.json()["tags"] == ["it"]
    dup = api_client.post(
        "/api/users/", {"username": "ALICE", "email": "a@x.example"}, format="json"
    )
    assert dup.status_code == 400
    other = other_api_client.get("/api/users/").json()
    assert (other["results"] if isinstance(other, dict) else other) == []
