"""The apps and tags pages: catalogue, Add app, settings with managed app configuration, licence
and install states, the licence shortfall warning, tags and a device's tags and apps."""

import pytest
from django.urls import reverse

from tests import factories
from tests.db_snapshot import table_counts

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_app_list_shows_tiles_and_list(admin_client, tenant):
    sales = factories.tag(tenant, "Sales", color="#aa3300")
    factories.catalogue_app(
        tenant,
        name="Numbers",
        asset=factories.synced_asset(tenant, total=5, assigned=2),
        tags=[sales],
    )
    tiles = admin_client.get(reverse("mdm:apps")).content.decode()
    assert "Numbers" in tiles and "5 licences · 2 assigned · 3 available" in tiles
    assert 'fill="#aa3300"' in tiles and "Sales" in tiles
    listed = admin_client.get(reverse("mdm:apps") + "?view=list").content.decode()
    assert 'id="app-table"' in listed and "Install automatically" in listed


def test_app_list_without_token_says_where_to_add_it(admin_client):
    page = admin_client.get(reverse("mdm:apps")).content.decode()
    assert 'id="no-vpp-token"' in page and 'id="apps-empty"' in page


def test_asset_search_by_adam_id_marks_apps_in_the_catalogue(admin_client, tenant, other_tenant):
    factories.synced_asset(tenant, "361309726", total=3)
    factories.catalogue_app(tenant, asset=factories.synced_asset(tenant, "361304891"), name="Pages")
    factories.synced_asset(other_tenant, "361300001")
    data = admin_client.get(reverse("mdm:app-assets"), {"q": "3613"}).json()
    found = {r["adam_id"]: r for r in data["results"]}
    assert set(found) == {"361309726", "361304891"}
    assert found["361304891"]["in_catalogue"] and not found["361309726"]["in_catalogue"]
    assert (
        admin_client.get(reverse("mdm:app-assets"), {"q": "Pages"}).json()["results"][0]["label"]
        == "Pages"
    )
    none = admin_client.get(reverse("mdm:app-assets"), {"q": "361300001"}).json()
    assert none["results"] == [] and "361300001" in none["no_match"]


def test_add_app_with_settings_tags_and_configuration(admin_client, tenant):
    from mdm.models import App

    factories.synced_asset(tenant, "361309726", total=3)
    response = admin_client.post(
        reverse("mdm:app-add"),
        {
            "adam_id": "361309726",
            "install_mode": "available",
            "prevent_backup": "on",
            "configuration_text": "ServerURL = https://mail.example.com\nUser = $USERNAME",
            "tag_names": "Sales, sales, Field",
        },
    )
    app = App.objects.get(tenant=tenant)
    assert response.status_code == 302 and response["Location"] == reverse("mdm:app", args=[app.pk])
    assert (
        app.install_mode == "available" and app.prevent_backup and app.remove_on_unenroll is False
    )
    assert app.configuration == {"ServerURL": "https://mail.example.com", "User": "$USERNAME"}
    assert sorted(t.name for t in app.tags.all()) == ["Field", "Sales"]
    assert app.asset.adam_id == "361309726" and app.platforms == ["iOS", "iPadOS"]


def test_add_app_takes_name_icon_and_version_from_apple_after_commit(
    admin_client, tenant, fake_vpp, django_capture_on_commit_callbacks
):
    from mdm.models import App

    factories.synced_asset(tenant, "361304892")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("mdm:app-add"), {"adam_id": "361304892", "install_mode": "automatic"}
        )
    app = App.objects.get(tenant=tenant)
    assert (app.name, app.bundle_id, app.version) == ("Contoso App 1", "com.contoso.app1", "2.0")
    assert app.icon_url.startswith("https://is1-ssl.mzstatic.com/")
    assert app.metadata_fetched_at is not None


def test_add_app_keeps_the_adam_id_when_apple_does_not_answer(
    admin_client, tenant, fake_vpp, django_capture_on_commit_callbacks
):
    from mdm.models import App

    fake_vpp.metadata_down = True
    factories.synced_asset(tenant, "361304892")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("mdm:app-add"), {"adam_id": "361304892", "install_mode": "automatic"}
        )
    app = App.objects.get(tenant=tenant)
    assert response.status_code == 302 and app.metadata_fetched_at is None
    assert (str(app), app.platforms) == ("361304892", ["iOS", "iPadOS"])


def test_asset_search_finds_apps_not_added_yet_by_apples_name(admin_client, tenant, fake_vpp):
    factories.synced_asset(tenant, "361304893", total=4)
    factories.synced_asset(tenant, "361304894")
    data = admin_client.get(reverse("mdm:app-assets"), {"q": "contoso app 2"}).json()
    assert [(r["adam_id"], r["label"]) for r in data["results"]] == [("361304893", "Contoso App 2")]
    assert data["results"][0]["counts"] == "4 of 4 licences available"


def test_app_icons_from_apple_pass_the_content_security_policy(admin_client, tenant):
    icon = "https://is1-ssl.mzstatic.com/image/thumb/Purple/app0/256x256bb.png"
    factories.catalogue_app(tenant, name="Keynote", icon_url=icon)
    response = admin_client.get(reverse("mdm:apps"))
    assert f'src="{icon}"' in response.content.decode()
    (img_src,) = [
        d for d in response["Content-Security-Policy"].split("; ") if d.startswith("img-src ")
    ]
    assert "https://*.mzstatic.com" in img_src.split()


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"adam_id": "999"}, "Pick an app from the search"),
        ({"configuration_text": "User = $USER"}, "Unknown variable $USER"),
        ({"configuration_text": "<plist><dict><key>a</key>"}, "not a valid plist dictionary"),
        ({"configuration_text": "no equals sign"}, "Line 1: write key = value"),
        (
            {
                "configuration_text": "<plist><dict><key>d</key><date>2024-01-01T00:00:00Z</date></dict></plist>"
            },
            "no dates or data",
        ),
        ({"install_mode": "sometimes"}, "Select a valid choice"),
    ],
)
def test_add_app_refuses_bad_input_and_stores_nothing(admin_client, tenant, fields, message):
    factories.synced_asset(tenant, "361309726")
    before = table_counts()
    data = {"adam_id": "361309726", "install_mode": "automatic", **fields}
    response = admin_client.post(reverse("mdm:app-add"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert table_counts() == before


def test_add_app_twice_is_refused(admin_client, tenant):
    factories.catalogue_app(tenant, asset=factories.synced_asset(tenant, "42"))
    response = admin_client.post(
        reverse("mdm:app-add"), {"adam_id": "42", "install_mode": "automatic"}
    )
    assert response.status_code == 400 and "in the catalogue already" in response.content.decode()


def test_shortfall_warning_before_assigning(admin_client, tenant):
    from mdm.models import App

    sales = factories.tag(tenant, "Sales")
    for _ in range(3):
        factories.managed_user(tenant).tags.add(sales)
    app = factories.catalogue_app(tenant, asset=factories.synced_asset(tenant, total=2, assigned=0))
    data = {"install_mode": "automatic", "tag_names": "sales"}
    response = admin_client.post(reverse("mdm:app-edit", args=[app.pk]), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not enough licences: these tags reach 3 users, and 2 licences were bought" in page
    assert 'name="confirm_shortfall"' in page and 'type="checkbox"' in page
    assert not App.objects.get(pk=app.pk).tags.exists()
    response = admin_client.post(
        reverse("mdm:app-edit", args=[app.pk]), {**data, "confirm_shortfall": "on"}
    )
    assert response.status_code == 302
    assert [t.name for t in App.objects.get(pk=app.pk).tags.all()] == ["Sales"]
    detail = admin_client.get(reverse("mdm:app", args=[app.pk])).content.decode()
    assert 'id="licence-shortfall"' in detail and "1 users get none" in detail


def test_edit_marks_devices_reached_before_and_after_due(admin_client, tenant):
    from mdm.models import Device

    old, new = factories.tag(tenant, "Old"), factories.tag(tenant, "New")
    before = factories.device(tenant)
    before.user.tags.add(old)
    after = factories.device(tenant)
    after.tags.add(new)
    Device.objects.update(config_due=False)
    app = factories.catalogue_app(tenant, tags=[old])
    response = admin_client.post(
        reverse("mdm:app-edit", args=[app.pk]), {"install_mode": "automatic", "tag_names": "New"}
    )
    assert response.status_code == 302
    assert set(Device.objects.filter(config_due=True).values_list("pk", flat=True)) == {
        before.pk,
        after.pk,
    }


def test_app_page_shows_licence_and_install_states(admin_client, tenant):
    from mdm.models import AppInstallation, Licence

    app = factories.catalogue_app(tenant, name="Keynote")
    alice = factories.managed_user(tenant, username="alice")
    bert = factories.managed_user(tenant, username="bert")
    carl = factories.managed_user(tenant, username="carl")
    Licence.objects.create(tenant=tenant, app=app, user=alice, state="assigned")
    Licence.objects.create(
        tenant=tenant,
        app=app,
        user=bert,
        state="failed",
        error_number=9610,
        error_text="License already assigned",
    )
    Licence.objects.create(tenant=tenant, app=app, user=carl, state="no_licence")
    d1 = factories.device(tenant, user=alice)
    d2 = factories.device(tenant, user=alice)
    AppInstallation.objects.create(
        tenant=tenant, app=app, device=d1, state="installed", version="14.2"
    )
    AppInstallation.objects.create(tenant=tenant, app=app, device=d2, state="installed_privately")
    page = admin_client.get(reverse("mdm:app", args=[app.pk])).content.decode()
    assert "Assigned" in page and "Apple error 9610: License already assigned" in page
    assert "No licence available" in page
    assert "Installed" in page and "14.2" in page
    assert "Installed privately — the user must remove it first" in page
    device_page = admin_client.get(reverse("mdm:device", args=[d2.pk])).content.decode()
    assert "Installed privately — the user must remove it first" in device_page


def test_app_page_in_german(admin_client, tenant):
    app = factories.catalogue_app(tenant)
    admin_client.cookies["django_language"] = "de"
    page = admin_client.get(reverse("mdm:app", args=[app.pk])).content.decode()
    assert "Lizenzen pro Benutzer" in page


def test_readonly_cannot_change(readonly_client, tenant):
    app = factories.catalogue_app(tenant)
    assert readonly_client.get(reverse("mdm:app", args=[app.pk])).status_code == 200
    assert readonly_client.post(reverse("mdm:app-edit", args=[app.pk]), {}).status_code == 403
    assert readonly_client.post(reverse("mdm:tag-create"), {"name": "x"}).status_code == 403


# Tags


def test_tag_list_counts_users_devices_apps(admin_client, tenant):
    sales = factories.tag(tenant, "Sales")
    device = factories.device(tenant)
    device.tags.add(sales)
    device.user.tags.add(sales)
    factories.managed_user(tenant).tags.add(sales)
    factories.catalogue_app(tenant, tags=[sales])
    response = admin_client.get(reverse("mdm:tags"))
    (row,) = response.context["tags"]
    assert (row.user_count, row.device_count, row.app_count) == (2, 1, 1)


def test_create_tag_and_refuse_a_name_differing_in_case(admin_client, tenant):
    from users.models import Tag

    response = admin_client.post(reverse("mdm:tag-create"), {"name": "Sales", "color": "#AA0000"})
    tag = Tag.objects.get(tenant=tenant)
    assert response.status_code == 302 and tag.color == "#aa0000"
    response = admin_client.post(reverse("mdm:tag-create"), {"name": "SALES", "color": "#00aa00"})
    assert response.status_code == 400 and "exists already" in response.content.decode()
    response = admin_client.post(reverse("mdm:tag-create"), {"name": "Blue", "color": "blue"})
    assert response.status_code == 400 and "Pick a colour" in response.content.decode()
    response = admin_client.post(reverse("mdm:tag-create"), {"name": "a,b", "color": "#000000"})
    assert response.status_code == 400
    assert Tag.objects.filter(tenant=tenant).count() == 1
    # Renaming to its own name in another case is fine.
    response = admin_client.post(
        reverse("mdm:tag-edit", args=[tag.pk]), {"name": "SALES", "color": "#aa0000"}
    )
    assert response.status_code == 302 and Tag.objects.get(pk=tag.pk).name == "SALES"


def test_tag_detail_shows_members_apps_and_sufficiency(admin_client, tenant):
    sales = factories.tag(tenant, "Sales")
    users = [factories.managed_user(tenant, username=f"u{i}") for i in range(3)]
    for user in users:
        user.tags.add(sales)
    device = factories.device(tenant, user=users[0])
    device.tags.add(sales)
    factories.catalogue_app(
        tenant, name="Short", asset=factories.synced_asset(tenant, total=2), tags=[sales]
    )
    factories.catalogue_app(
        tenant, name="Plenty", asset=factories.synced_asset(tenant, total=10), tags=[sales]
    )
    page = admin_client.get(reverse("mdm:tag", args=[sales.pk])).content.decode()
    assert "3 users" in page and "1 device" in page
    assert "1 licence missing" in page and "enough licences" in page
    assert "u0" in page and "u2" in page


def test_delete_tag_says_what_changes_then_deletes(admin_client, tenant):
    from mdm.models import Device
    from users.models import Tag

    sales = factories.tag(tenant, "Sales")
    device = factories.device(tenant)
    device.user.tags.add(sales)
    factories.catalogue_app(tenant, name="Numbers", tags=[sales])
    Device.objects.update(config_due=False)
    page = admin_client.get(reverse("mdm:tag-delete", args=[sales.pk])).content.decode()
    assert "1 user loses this tag." in page and "Numbers" in page and "removed" in page
    response = admin_client.post(reverse("mdm:tag-delete", args=[sales.pk]))
    assert response.status_code == 302 and not Tag.objects.filter(pk=sales.pk).exists()
    assert Device.objects.get(pk=device.pk).config_due


def test_direct_app_of_a_device(admin_client, tenant, other_tenant):
    from mdm.models import Device

    device = factories.device(tenant)
    app = factories.catalogue_app(tenant, name="Numbers")
    foreign = factories.catalogue_app(other_tenant)
    Device.objects.update(config_due=False)
    response = admin_client.post(
        reverse("mdm:device-assign", args=[device.pk]), {"app": app.pk, "action": "assign"}
    )
    assert list(device.direct_apps.all()) == [app] and Device.objects.get(pk=device.pk).config_due
    from mdm.models import DeviceApp

    DeviceApp.objects.create(device=device, identifier="com.example.notes", name="Notes")
    page = admin_client.get(reverse("mdm:device", args=[device.pk])).content.decode()
    assert "Stop assigning Numbers" in page
    assert "com.example.notes" in page  # what the device reported, beside the catalogue's
    response = admin_client.post(
        reverse("mdm:device-assign", args=[device.pk]),
        {"app": foreign.pk, "action": "assign"},
        follow=True,
    )
    assert "Pick an app of the catalogue." in _messages(response)
    assert list(device.direct_apps.all()) == [app]
    admin_client.post(
        reverse("mdm:device-assign", args=[device.pk]), {"app": app.pk, "action": "unassign"}
    )
    assert not device.direct_apps.exists()


@pytest.mark.parametrize("install_mode", ["automatic", "available"])
def test_reach_shown_before_saving_is_who_the_licence_service_assigns(tenant, install_mode):
    from mdm import app_reach, licences
    from mdm.models import Licence

    sales = factories.tag(tenant, "Sales")
    app = factories.catalogue_app(tenant, install_mode=install_mode)
    factories.managed_user(tenant).tags.add(sales)
    factories.managed_user(tenant, is_active=False).tags.add(sales)
    factories.device(tenant).tags.add(sales)
    factories.device(tenant, status="unenrolled").tags.add(sales)
    app.devices.add(factories.device(tenant))
    Licence.objects.create(
        tenant=tenant, app=app, user=factories.managed_user(tenant), requested=True
    )
    factories.managed_user(tenant)  # no reason
    preview = app_reach.user_ids_reached(app, [sales.pk], install_mode)  # what the form shows
    app.tags.add(sales)
    licences.plan(app)
    assert preview == set(Licence.objects.filter(app=app).values_list("user_id", flat=True))
    assert len(preview) == (4 if install_mode == "automatic" else 2)
