"""The app catalogue (mdm.app_catalogue) and Apple's content metadata lookup
(apple.vpp.metadata) against the fake: names and icons when Apple answers, the adamId alone
when it does not, cached lookups, search, licence counts, and deleting an app."""

import pytest
from django.utils import translation

from apple.vpp import metadata
from mdm import app_catalogue, app_configuration, app_reach, tasks
from mdm.models import App, Licence
from tests import factories

pytestmark = pytest.mark.django_db

ADAM_ID = "361304891"


@pytest.fixture
def token(tenant, fake_vpp):
    row = factories.vpp_token(tenant, fake=fake_vpp, country="DE")
    for i in range(3):
        factories.vpp_asset(row, str(361304891 + i), total_count=10, available_count=10 - i)
    return row


def _lookups(fake):
    return [r for r in fake.requests if r[1] == "/lookup"]


def test_metadata_is_looked_up_once_and_cached(token, fake_vpp):
    found = metadata.lookup([ADAM_ID, "361304892"], token_text=token.token, country="DE")
    assert found[ADAM_ID] == {
        "name": "Contoso App 0",
        "bundle_id": "com.contoso.app0",
        "icon_url": "https://is1-ssl.mzstatic.com/image/thumb/Purple/app0/256x256bb.png",
        "version": "1.0",
        "platforms": ["ipad", "iphone"],
    }
    metadata.lookup([ADAM_ID], country="DE")
    assert len(_lookups(fake_vpp)) == 1


def test_add_app_then_refresh_metadata(token, tenant, fake_vpp):
    app = app_catalogue.add_app(tenant, ADAM_ID)
    assert (app.name, app.asset.adam_id) == ("", ADAM_ID)  # metadata comes after commit
    assert tasks.refresh_app_metadata(app.pk) is True
    app.refresh_from_db()
    assert (app.name, app.bundle_id, app.version) == ("Contoso App 0", "com.contoso.app0", "1.0")
    assert app.metadata_fetched_at is not None


def test_the_catalogue_works_with_the_adam_id_alone_when_the_lookup_fails(token, tenant, fake_vpp):
    fake_vpp.metadata_down = True
    app = app_catalogue.add_app(tenant, ADAM_ID)
    assert app_catalogue.refresh_metadata(app) is False
    app.refresh_from_db()
    assert (str(app), app.metadata_fetched_at) == (ADAM_ID, None)
    rows = app_catalogue.search_assets(tenant)
    assert [(r["adam_id"], r["name"]) for r in rows][:1] == [(ADAM_ID, "")]


def test_search_assets_by_name_with_counts(token, tenant, fake_vpp):
    app_catalogue.add_app(tenant, "361304892")
    rows = app_catalogue.search_assets(tenant, "app 1")
    assert rows == [
        {
            "adam_id": "361304892",
            "name": "Contoso App 1",
            "icon_url": "https://is1-ssl.mzstatic.com/image/thumb/Purple/app1/256x256bb.png",
            "platforms": [],
            "total": 10,
            "assigned": 0,
            "available": 9,
            "in_catalogue": True,
        }
    ]
    assert [r["adam_id"] for r in app_catalogue.search_assets(tenant, "3613048")] == [
        ADAM_ID,
        "361304892",
        "361304893",
    ]


def test_only_bought_apps_can_be_added(token, tenant, other_tenant):
    # In English whatever language an earlier test's last request left active.
    with (
        translation.override("en"),
        pytest.raises(app_catalogue.CatalogueError, match="no licences"),
    ):
        app_catalogue.add_app(tenant, "42")
    with pytest.raises(app_catalogue.CatalogueError):
        app_catalogue.add_app(other_tenant, ADAM_ID)  # another tenant's asset
    assert not App.objects.exists()


def test_licence_counts(token, tenant):
    app = app_catalogue.add_app(tenant, "361304892")
    user = factories.managed_user(tenant)
    Licence.objects.create(tenant=tenant, app=app, user=user, state="no_licence")
    counts = app_reach.licence_counts(app)
    assert (counts.total, counts.assigned, counts.available) == (10, 0, 9)
    assert counts.users["no_licence"] == 1 and counts.users["assigned"] == 0


def test_deleting_an_app_releases_its_licences_at_apple(token, tenant, fake_vpp):
    from mdm import licences
    from users.models import Tag

    app = app_catalogue.add_app(tenant, ADAM_ID)
    tag = Tag.objects.create(tenant=tenant, name="All")
    app.tags.add(tag)
    users = [factories.managed_user(tenant) for _ in range(2)]
    tag.users.add(*users)
    licences.run(tenant.pk)
    assert len(fake_vpp.holders(ADAM_ID)) == 2
    _pushed, release = app_catalogue.delete_app(app)
    assert tasks.release_licences(release) == 2
    assert fake_vpp.holders(ADAM_ID) == set()


@pytest.mark.parametrize(
    "text",
    [
        '{"server": "mail.example.com", "port": 993, "tls": true}',
        '<?xml version="1.0"?><plist version="1.0"><dict><key>server</key>'
        "<string>$EMAIL</string></dict></plist>",
    ],
)
def test_configuration_as_json_or_plist_text(text):
    assert isinstance(app_configuration.parse(text), dict)
