"""The apps API: catalogue apps, tags and members, per-user licence and per-device install
state; bad input is a 400 that stores nothing, another tenant gets 404."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apple.models import VppAsset
from mdm.models import App, AppInstallation, Command, Licence
from tests import factories
from tests.db_snapshot import table_counts
from users.models import AuditEvent, Tag

pytestmark = pytest.mark.django_db

ADAM_ID = "361304891"


@pytest.fixture
def asset(tenant):
    return factories.vpp_asset(factories.vpp_token(tenant), ADAM_ID, available_count=7)


def test_add_an_app_from_the_synced_assets(api_client, asset, tenant):
    user = factories.managed_user(tenant)
    device = factories.device(tenant, user=user)
    response = api_client.post(
        "/api/apps/",
        {
            "adam_id": ADAM_ID,
            "install_mode": "automatic",
            "prevent_backup": True,
            "configuration": {"server": "mail.example.com", "user": "$USERNAME"},
            "tags": ["Sales", "sales", "Field"],
            "devices": [device.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["adam_id"] == ADAM_ID and body["prevent_backup"] is True
    assert sorted(body["tags"]) == ["Field", "Sales"]
    assert body["devices"] == [device.pk]
    assert body["licence_counts"]["total"] == 10 and body["licence_counts"]["available"] == 7
    app = App.objects.get()
    assert app.asset == asset and app.management_flags == 5
    assert AuditEvent.objects.filter(action="app.added").exists()

    again = api_client.post("/api/apps/", {"adam_id": ADAM_ID}, format="json")
    assert again.status_code == 201 and again.json()["id"] == app.pk  # the one already there


@pytest.mark.parametrize(
    "body",
    [
        {"adam_id": "999"},  # not bought
        {"adam_id": "abc"},
        {"adam_id": 361304891},  # a number, not a string
        {"adam_id": ADAM_ID, "configuration": [1, 2]},
        {"adam_id": ADAM_ID, "configuration": {"a": None}},
        {"adam_id": ADAM_ID, "configuration": {"a": "nul\x00"}},
        {"adam_id": ADAM_ID, "configuration": {"big": "x" * 70000}},
        {"adam_id": ADAM_ID, "configuration": {"user": "$USER"}},  # unknown variable
        {  # a date: a plist holds it, the stored JSON does not
            "adam_id": ADAM_ID,
            "configuration": "<plist><dict><key>d</key><date>2024-01-01T00:00:00Z</date>"
            "</dict></plist>",
        },
        {"adam_id": ADAM_ID, "install_mode": "sometimes"},
        {"adam_id": ADAM_ID, "remove_on_unenroll": "yes"},
        {"adam_id": ADAM_ID, "devices": [999999]},
    ],
)
def test_bad_input_is_refused_and_stores_nothing(api_client, asset, body):
    before = table_counts()
    response = api_client.post("/api/apps/", body, format="json")
    assert response.status_code == 400, response.content
    assert table_counts() == before


def test_another_tenants_devices_cannot_be_assigned(api_client, asset, other_tenant):
    stranger = factories.device(other_tenant)
    response = api_client.post(
        "/api/apps/", {"adam_id": ADAM_ID, "devices": [stranger.pk]}, format="json"
    )
    assert response.status_code == 400
    assert not App.objects.exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    configuration=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_any_configuration_is_stored_or_refused_never_a_server_error(
    api_client, asset, configuration
):
    app = App.objects.filter(adam_id=ADAM_ID).first() or factories.app(asset.tenant, asset=asset)
    before = App.objects.values_list("configuration", flat=True).get(pk=app.pk)
    response = api_client.patch(
        f"/api/apps/{app.pk}/", {"configuration": configuration}, format="json"
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert App.objects.values_list("configuration", flat=True).get(pk=app.pk) == before


def test_update_changes_settings_and_resends_to_installed_devices(api_client, asset, tenant):
    app = factories.app(tenant, asset=asset)
    device = factories.device(tenant)
    AppInstallation.objects.create(
        tenant=tenant, app=app, device=device, state="installed", identifier="com.x"
    )
    response = api_client.patch(
        f"/api/apps/{app.pk}/",
        {"configuration": {"mode": "strict"}, "remove_on_unenroll": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    command = Command.objects.get(request_type="InstallApplication")
    assert command.arguments["Configuration"] == {"mode": "strict"}
    assert "ManagementFlags" not in command.arguments  # no flags
    assert AppInstallation.objects.get().state == "queued"
    adam = api_client.patch(f"/api/apps/{app.pk}/", {"adam_id": "1"}, format="json")
    assert adam.status_code == 400


def test_delete_removes_the_app_from_devices(api_client, asset, tenant):
    app = factories.app(tenant, asset=asset, bundle_id="com.example.notes")
    device = factories.device(tenant)
    AppInstallation.objects.create(tenant=tenant, app=app, device=device, state="installed")
    response = api_client.delete(f"/api/apps/{app.pk}/")
    assert response.status_code == 204
    assert not App.objects.exists()
    command = Command.objects.get()
    assert (command.request_type, command.arguments) == (
        "RemoveApplication",
        {"Identifier": "com.example.notes"},
    )


def test_tags_with_members(api_client, asset, tenant, other_tenant):
    app = factories.app(tenant, asset=asset)
    user = factories.managed_user(tenant)
    device = factories.device(tenant, user=user)
    created = api_client.post("/api/tags/", {"name": "Sales", "color": "#AA0000"}, format="json")
    assert created.status_code == 201, created.content
    tag_id = created.json()["id"]
    assert created.json()["color"] == "#aa0000"
    clash = api_client.post("/api/tags/", {"name": "SALES"}, format="json")
    assert clash.status_code == 400

    url = f"/api/tags/{tag_id}/members/"
    response = api_client.post(
        url, {"users": [user.pk], "devices": [device.pk], "apps": [app.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"users": [user.pk], "devices": [device.pk], "apps": [app.pk]}
    device.refresh_from_db()
    assert device.config_due  # the tag reaches the device now
    listed = api_client.get("/api/tags/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0] | {} == {
        "id": tag_id,
        "name": "Sales",
        "color": "#aa0000",
        "users": 1,
        "devices": 1,
        "apps": 1,
    }

    stranger = factories.managed_user(other_tenant)
    before = table_counts()
    refused = api_client.post(url, {"users": [stranger.pk]}, format="json")
    assert refused.status_code == 400 and table_counts() == before

    removed = api_client.post(
        f"/api/tags/{tag_id}/remove-members/", {"apps": [app.pk]}, format="json"
    )
    assert removed.json()["apps"] == []
    assert api_client.delete(f"/api/tags/{tag_id}/").status_code == 204
    assert not Tag.objects.exists()


def test_licence_and_install_state(api_client, asset, tenant):
    app = factories.app(tenant, asset=asset)
    user = factories.managed_user(tenant)
    device = factories.device(tenant, user=user)
    Licence.objects.create(
        tenant=tenant,
        app=app,
        user=user,
        state="failed",
        error_number=9616,
        error_text="Not enough licences",
    )
    AppInstallation.objects.create(
        tenant=tenant,
        app=app,
        device=device,
        state="installed_privately",
        error="Installed privately — the user must remove it first.",
    )
    licences = api_client.get(f"/api/licences/?app={app.pk}").json()
    rows = licences["results"] if isinstance(licences, dict) else licences
    assert [(r["username"], r["state"], r["error_number"]) for r in rows] == [
        (user.username, "failed", 9616)
    ]
    assert api_client.get("/api/licences/?state=nonsense").status_code == 400
    assert api_client.get("/api/licences/?app=x").status_code == 400
    installs = api_client.get(f"/api/app-installations/?device={device.pk}").json()
    rows = installs["results"] if isinstance(installs, dict) else installs
    assert [(r["app"], r["state"]) for r in rows] == [(app.pk, "installed_privately")]
    counts = api_client.get(f"/api/apps/{app.pk}/").json()["licence_counts"]
    assert counts["users"]["failed"] == 1


def test_licence_counts_show_the_shortfall_as_the_pages_do(api_client, tenant):
    from mdm import app_reach

    sales = factories.tag(tenant, "Sales")
    for _ in range(3):
        factories.managed_user(tenant).tags.add(sales)
    app = factories.catalogue_app(
        tenant, asset=factories.synced_asset(tenant, total=2), tags=[sales]
    )
    counts = api_client.get(f"/api/apps/{app.pk}/").json()["licence_counts"]
    assert (counts["total"], counts["reached"], counts["shortfall"]) == (2, 3, 1)
    assert counts["shortfall"] == app_reach.licence_counts(app).shortfall


def test_a_second_tenant_sees_none_of_it(api_client, other_api_client, asset, tenant):
    app = factories.app(tenant, asset=asset)
    user = factories.managed_user(tenant)
    device = factories.device(tenant, user=user)
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    licence = Licence.objects.create(tenant=tenant, app=app, user=user)
    install = AppInstallation.objects.create(tenant=tenant, app=app, device=device)
    for url in (
        f"/api/apps/{app.pk}/",
        f"/api/tags/{tag.pk}/",
        f"/api/tags/{tag.pk}/members/",
        f"/api/licences/{licence.pk}/",
        f"/api/app-installations/{install.pk}/",
    ):
        assert other_api_client.get(url).status_code == 404, url
    assert other_api_client.delete(f"/api/apps/{app.pk}/").status_code == 404
    assert (
        other_api_client.post(f"/api/tags/{tag.pk}/remove-members/", {}, format="json").status_code
        == 404
    )
    for url in ("/api/apps/", "/api/tags/", "/api/licences/", "/api/app-installations/"):
        listed = other_api_client.get(url).json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        assert rows == [], url
    assert VppAsset.objects.count() == 1  # untouched


def test_tag_names_and_colours_are_checked_as_on_the_pages(api_client, tenant):
    from users.models import Tag

    for body in (
        {"name": "a,b", "color": "#000000"},  # the tag fields split names at , ; |
        {"name": " ", "color": "#000000"},
        {"name": "Sales", "color": "blue"},
    ):
        assert api_client.post("/api/tags/", body, format="json").status_code == 400, body
    created = api_client.post("/api/tags/", {"name": "Sales", "color": "#AA0000"}, format="json")
    assert created.status_code == 201 and created.json()["color"] == "#aa0000"
    clash = api_client.post("/api/tags/", {"name": "SALES", "color": "#000000"}, format="json")
    assert clash.status_code == 400 and "names ignore case" in str(clash.json())
    assert Tag.objects.filter(tenant=tenant).count() == 1
