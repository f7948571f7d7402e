"""A managed user's new Managed Apple ID reaches their Apps and Books user (``users/update``
against the local fake Apps and Books server): once, batched, and not again on a second run."""

import pytest
from django.urls import reverse

from apple.models import VppToken, VppUser
from apple.vpp import events
from mdm import licences, tasks
from tests import factories
from tests.apple.fakes import USER_RETIRED
from users.imports import csv_import
from users.models import Tag

pytestmark = pytest.mark.django_db

ADAM_ID = "361304891"


@pytest.fixture
def sales(tenant, fake_vpp):
    fake_vpp.retry_after = "0"
    token = factories.vpp_token(tenant, fake=fake_vpp)
    app = factories.app(tenant, asset=factories.vpp_asset(token, ADAM_ID))
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    app.tags.add(tag)
    return tag


def _licensed(tenant, tag, count=1):
    users = [factories.managed_user(tenant) for _ in range(count)]
    tag.users.add(*users)
    licences.run(tenant.pk)
    _settle()
    assert set(VppUser.objects.values_list("status", flat=True)) == {VppUser.Status.REGISTERED}
    return users


def _settle():
    for row in VppToken.objects.all():
        events.refresh_events(row)


def _form_data(user, **changes) -> dict:
    fields = ("username", "first_name", "last_name", "email", "managed_apple_id", "language")
    return {name: getattr(user, name) for name in fields} | {"is_active": "on"} | changes


def test_new_apple_id_on_the_form_calls_users_update_once(
    admin_client, tenant, sales, fake_vpp, django_capture_on_commit_callbacks
):
    (user,) = _licensed(tenant, sales)
    vpp_user = VppUser.objects.get(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("users:edit", args=[user.pk]),
            _form_data(user, managed_apple_id="alice.new@contoso.appleid.com", tag_names="Sales"),
        )
    assert response.status_code == 302
    assert fake_vpp.calls("users/update") == 1
    assert fake_vpp.updates == [
        {"clientUserId": vpp_user.client_user_id, "managedAppleId": "alice.new@contoso.appleid.com"}
    ]
    assert fake_vpp.user(vpp_user.client_user_id)["managedAppleId"] == (
        "alice.new@contoso.appleid.com"
    )
    vpp_user.refresh_from_db()
    assert vpp_user.managed_apple_id == "alice.new@contoso.appleid.com"

    # Run again (the task, the beat, Apple's job settling): nothing more is sent.
    assert tasks.update_vpp_users([vpp_user.token_id]) == 0
    tasks.follow_licence_jobs()
    _settle()
    assert fake_vpp.calls("users/update") == 1
    vpp_user.refresh_from_db()
    assert (vpp_user.status, vpp_user.error_text) == (VppUser.Status.REGISTERED, "")


def test_an_email_change_sends_no_users_update(
    admin_client, tenant, sales, fake_vpp, django_capture_on_commit_callbacks
):
    (user,) = _licensed(tenant, sales)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("users:edit", args=[user.pk]),
            _form_data(user, email="other@example.com", tag_names="Sales"),
        )
    assert fake_vpp.calls("users/update") == 0


def test_csv_import_of_new_apple_ids_updates_in_batches(
    tmp_path, tenant, sales, fake_vpp, django_capture_on_commit_callbacks
):
    fake_vpp.limits.update(maxUsers=2)
    users = _licensed(tenant, sales, 3)
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,managed_apple_id\n"
        + "".join(f"{u.username},{u.email},{u.username}@new.appleid.com\n" for u in users),
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        csv_import.run(tenant, path, all_or_nothing=True)
    assert fake_vpp.calls("users/update") == 2  # ceil(3 / 2)
    assert {u["managedAppleId"] for u in fake_vpp.updates} == {
        f"{u.username}@new.appleid.com" for u in users
    }
    assert tasks.update_vpp_users(list(VppToken.objects.values_list("pk", flat=True))) == 0
    assert fake_vpp.calls("users/update") == 2


def test_a_change_during_the_creation_job_is_sent_by_the_beat(tenant, sales, fake_vpp):
    fake_vpp.events_finish_at_once = False
    (user,) = [factories.managed_user(tenant)]
    sales.users.add(user)
    licences.run(tenant.pk)  # users/create is still running at Apple
    user.managed_apple_id = "later@contoso.appleid.com"
    user.save()
    tokens = licences.apple_ids_changed([user.pk])
    assert tasks.update_vpp_users(tokens) == 0  # the user is not registered yet
    assert fake_vpp.calls("users/update") == 0

    fake_vpp.finish_events()
    tasks.follow_licence_jobs()  # settles the creation, then sends the new ID
    assert fake_vpp.calls("users/update") == 1
    assert fake_vpp.updates[0]["managedAppleId"] == "later@contoso.appleid.com"
    tasks.follow_licence_jobs()
    assert fake_vpp.calls("users/update") == 1


def test_a_new_apple_id_before_creation_is_sent_by_users_create(tenant, fake_vpp):
    token = factories.vpp_token(tenant, fake=fake_vpp)
    user = factories.managed_user(tenant)
    VppUser.objects.create(
        tenant=tenant, token=token, user=user, client_user_id="c-1", managed_apple_id="old@x.com"
    )
    user.managed_apple_id = "new@x.com"
    user.save()
    assert licences.apple_ids_changed([user.pk]) == []  # nothing registered to update
    assert VppUser.objects.get().managed_apple_id == "new@x.com"  # users/create will send it


def test_a_refused_update_keeps_the_user_usable_with_apples_reason(tenant, sales, fake_vpp):
    (user,) = _licensed(tenant, sales)
    user.managed_apple_id = "refused@contoso.appleid.com"
    user.save()
    fake_vpp.user_errors["refused@contoso.appleid.com"] = USER_RETIRED
    assert tasks.update_vpp_users(licences.apple_ids_changed([user.pk])) == 1
    _settle()
    vpp_user = VppUser.objects.get(user=user)
    assert vpp_user.status == VppUser.Status.REGISTERED
    assert vpp_user.error_number == USER_RETIRED["errorNumber"]
    assert tasks.update_vpp_users([vpp_user.token_id]) == 0  # not resent until the ID changes
