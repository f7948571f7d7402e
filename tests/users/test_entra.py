"""Entra ID import and sync against a fake Graph and token server on loopback."""

import uuid

import pytest

from tests.users.fakes import SECRET, entra_user
from users.imports import entra
from users.imports.graph import GraphClient, GraphError
from users.imports.models import EntraConnection
from users.models import ManagedUser


def entra_users(tenant):
    return ManagedUser.objects.filter(tenant=tenant, source=ManagedUser.Source.ENTRA)


def test_client_pages_and_retry_after(graph):
    sleeps = []
    graph.throttle_once.add("/v1.0/users")
    with GraphClient("contoso", "app-id", SECRET, sleep=sleeps.append) as client:
        users = list(client.users())
    assert len(users) == 7  # three pages of three
    assert sleeps == [1.0]
    assert graph.requests.count("/v1.0/users") == 4  # the 429 and three pages
    assert graph.tokens_issued == 1  # the token is cached


def test_wrong_secret_is_a_clear_error(graph, connection):
    connection.client_secret = "wrong"
    connection.save()
    with pytest.raises(GraphError, match="Invalid client secret"):
        entra.test_connection(connection)


def test_test_connection(graph, connection):
    assert "readable" in entra.test_connection(connection)


def test_initial_sync_imports_everyone_with_apple_id_from_upn(graph, connection, tenant):
    counts = entra.sync(connection)
    assert counts["created"] == 7 and counts["mode"] == "initial"
    user = entra_users(tenant).get(external_id=str(uuid.UUID(int=1)))
    assert user.username == "user1"
    assert user.managed_apple_id == "user1@contoso.example"
    assert user.email == "user1.mail@contoso.example"
    assert (user.first_name, user.last_name) == ("Given1", "Sur1")
    connection.refresh_from_db()
    assert connection.delta_link


def test_mail_as_apple_id_source(graph, connection, tenant):
    connection.apple_id_source = EntraConnection.AppleIdSource.MAIL
    connection.save()
    entra.sync(connection)
    assert (
        entra_users(tenant).filter(managed_apple_id__endswith=".mail@contoso.example").count() == 7
    )


def test_delta_round_creates_updates_and_deactivates(graph, connection, tenant):
    entra.sync(connection)
    ids = list(graph.users)
    graph.change(ids[0], givenName="Renamed")
    graph.change(ids[1], accountEnabled=False)
    graph.remove(ids[2])
    graph.add(entra_user(99))
    connection.refresh_from_db()
    counts = entra.sync(connection)
    assert counts["mode"] == "delta"
    assert (counts["created"], counts["updated"], counts["deactivated"]) == (1, 2, 1)
    users = entra_users(tenant)
    assert users.get(external_id=ids[0]).first_name == "Renamed"
    assert users.get(external_id=ids[0]).last_name == "Sur1"  # partial change keeps the rest
    assert not users.get(external_id=ids[1]).is_active
    assert not users.get(external_id=ids[2]).is_active  # removed: deactivated, not deleted
    assert users.filter(username="user99").exists()


def test_expired_delta_link_falls_back_to_a_full_import(graph, connection, tenant):
    entra.sync(connection)
    connection.refresh_from_db()
    token = connection.delta_link.rsplit("=", 1)[1]
    graph.expired_links.add(token)
    removed = list(graph.users)[0]
    graph.users.pop(removed)  # gone while the link was stale: only a full read notices
    counts = entra.sync(connection)
    assert counts["mode"] == "full (delta link expired)"
    assert counts["deactivated"] == 1
    assert not entra_users(tenant).get(external_id=removed).is_active
    connection.refresh_from_db()
    assert token not in connection.delta_link


def test_group_scope_imports_members_once(graph, connection, tenant):
    connection.scope = EntraConnection.Scope.GROUPS
    connection.group_ids = "g-sales\ng-it"
    connection.save()
    counts = entra.sync(connection)
    assert counts["created"] == 4  # user 2 is in both groups
    graph.groups["g-it"] = []
    counts = entra.sync(connection)
    assert counts["deactivated"] == 2


def test_usernames_stay_unique(graph, connection, tenant):  # a manual user1 exists
    ManagedUser.objects.create(tenant=tenant, username="user1", email="x@x.example")
    entra.sync(connection)
    assert entra_users(tenant).filter(username="user12").exists()  # "user1" + "2"
    assert ManagedUser.objects.filter(tenant=tenant, username__iexact="user1").count() == 1


def test_beat_task_and_pages(graph, connection, admin_client, tenant):
    from users.imports.tasks import sync_entra_tenants

    assert sync_entra_tenants.delay().get() == 1
    assert entra_users(tenant).count() == 7
    page = admin_client.get("/users/import/entra/").content.decode()
    assert "7 created" in page
    assert admin_client.post("/users/import/entra/test/").status_code == 302


def test_settings_form_keeps_the_secret_encrypted(admin_client, tenant, graph):
    from django.db import connection as db

    response = admin_client.post(
        "/users/import/entra/",
        {
            "directory_id": "contoso.onmicrosoft.com",
            "client_id": "app-id",
            "client_secret": SECRET,
            "apple_id_source": "upn",
            "scope": "all",
            "sync_enabled": "on",
        },
    )
    assert response.status_code == 302
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM user_imports_entraconnection")
        assert SECRET not in str(cursor.fetchone()[0])
    # Saving again without a secret keeps it.
    admin_client.post(
        "/users/import/entra/",
        {
            "directory_id": "contoso.onmicrosoft.com",
            "client_id": "app-id",
            "client_secret": "",
            "apple_id_source": "mail",
            "scope": "all",
        },
    )
    assert EntraConnection.objects.get().client_secret == SECRET
    missing_groups = admin_client.post(
        "/users/import/entra/",
        {"directory_id": "x", "client_id": "y", "apple_id_source": "upn", "scope": "groups"},
    )
    assert missing_groups.status_code == 400


def test_api_sync(api_client, connection, tenant):
    assert api_client.post("/api/user-imports/entra/").status_code == 202
    status = api_client.get("/api/user-imports/entra/").json()
    assert status["last_result"]["created"] == 7


def test_unreachable_microsoft_is_a_sentence_and_does_not_block(admin_client, connection, settings):
    """Test connection and Import now run as tasks; a network error reads as a sentence."""
    import time

    from django.utils import translation

    settings.GRAPH_BASE_URL = settings.GRAPH_LOGIN_BASE_URL = "http://127.0.0.1:9"  # refused
    started = time.monotonic()
    assert admin_client.post("/users/import/entra/test/").status_code == 302
    assert time.monotonic() - started < 5  # no retries with back-off for a waiting person
    connection.refresh_from_db()
    assert connection.test_ok is False and connection.run_state == "idle"
    page = admin_client.get("/users/import/entra/").content.decode()
    assert "Microsoft Entra ID could not be reached" in page and "Errno" not in page

    started = time.monotonic()
    assert admin_client.post("/users/import/entra/sync/").status_code == 302
    assert time.monotonic() - started < 5  # Import now: one quick retry, not 15 s of back-off
    page = admin_client.get("/users/import/entra/").content.decode()
    assert "could not be reached" in page and "Last attempt" in page and "Errno" not in page
    with translation.override("de"):
        assert "konnte nicht erreicht werden" in EntraConnection.objects.get().last_error_text


def test_test_connection_and_import_report_progress(admin_client, connection, tenant):
    admin_client.post("/users/import/entra/test/")
    connection.refresh_from_db()
    assert connection.test_ok is True and connection.last_error == ""
    assert "The connection works" in admin_client.get("/users/import/entra/").content.decode()
    admin_client.post("/users/import/entra/sync/")
    connection.refresh_from_db()
    assert connection.run_progress == 7 and connection.run_state == "idle"
    status = admin_client.get("/users/import/entra/status/").json()
    assert status == {"running": False, "state": "idle", "progress": 7}


def test_a_running_import_is_not_started_twice(admin_client, connection):
    from users.imports import entra

    assert entra.start(connection, EntraConnection.RunState.IMPORTING)
    connection.refresh_from_db()
    admin_client.post("/users/import/entra/sync/")
    page = admin_client.get("/users/import/entra/").content.decode()
    assert "already running" in page and "Importing from Microsoft Entra ID" in page
    assert 'id="entra-sync"' not in page
