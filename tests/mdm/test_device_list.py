"""The device list (portal tiles and list, ``GET /api/devices/``) pages by keyset: every page
costs the same number of queries whatever the tenant's size, a cursor cannot be forged into an
error, and another tenant's devices never show."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mdm.models import Device
from users.models import ManagedUser

UI = "/mobile-security/devices/"
API = "/api/devices/"


def _make_devices(tenant, count, prefix="dev"):
    """``count`` devices of ``max(1, count // 10)`` users; every 7th never seen, and pairs with
    the same last_seen_at (the created time and the id must break the tie)."""
    now = timezone.now()
    users = ManagedUser.objects.bulk_create(
        ManagedUser(
            tenant=tenant,
            username=f"{prefix}-user{i}",
            last_name=f"Person{i}",
            managed_apple_id=f"{prefix}{i}@example.appleid.com",
        )
        for i in range(max(1, count // 10))
    )
    devices = Device.objects.bulk_create(
        Device(
            tenant=tenant,
            enrollment_id=f"{prefix}-{i}",
            identity_fingerprint=f"{i:064d}",
            user=users[i % len(users)],
            status=Device.Status.ENROLLED,
            product_name=("iPhone17,1", "iPad14,1")[i % 2],
            os_version="18.1",
            push_token=b"\x01" * 32,
            push_magic="magic",
            terms_accepted=bool(i % 3),
            enrolled_at=now - timedelta(days=3),
            last_seen_at=None if i % 7 == 0 else now - timedelta(minutes=i // 2),
        )
        for i in range(count)
    )
    return devices


def _expected_order(tenant):
    """The ordering in Python: last seen (never seen last), then created, then id; newest first."""
    devices = list(Device.objects.filter(tenant=tenant).order_by("pk"))
    never = timezone.now().replace(year=1)
    devices.sort(key=lambda d: (d.last_seen_at or never, d.created_at, d.pk), reverse=True)
    return [d.enrollment_id for d in devices]


def _tiles(html: str) -> list[str]:
    return re.findall(r'data-enrollment-id="([^"]+)"', html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return UI + unescape(found.group(1)) if found else None


def _queries(client, url, status=200):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return len(captured), response


def _cursor_after(device) -> str:
    from mdm.device_pages import _row_key, encode_cursor

    return encode_cursor("after", _row_key(device))


@pytest.mark.django_db
def test_ui_pages_walk_the_whole_ordering_both_ways(admin_client, tenant):
    _make_devices(tenant, 150)
    expected = _expected_order(tenant)
    seen, url = [], UI
    while url:
        html = admin_client.get(url).content.decode()
        seen += _tiles(html)
        url = _link(html, "next")
    assert seen == expected
    # Backwards from the last page (the tail, read in reverse) to the first.
    backwards, url = [], UI + "?page=last"
    while url:
        html = admin_client.get(url).content.decode()
        backwards = _tiles(html) + backwards
        url = _link(html, "prev")
    assert backwards == expected
    last = admin_client.get(UI + "?page=last").content.decode()
    assert _tiles(last) == expected[-60:]
    assert _link(last, "next") is None and _link(last, "first")
    assert "150 devices" in admin_client.get(UI).content.decode()


@pytest.mark.django_db
def test_api_pages_walk_the_whole_ordering(api_client, tenant):
    _make_devices(tenant, 120)
    expected = _expected_order(tenant)
    seen, url = [], API
    while url:
        data = api_client.get(url).json()
        seen += [row["enrollment_id"] for row in data["results"]]
        url = data["next"]
    assert seen == expected
    first = api_client.get(API).json()
    last = api_client.get(first["last"]).json()
    assert [row["enrollment_id"] for row in last["results"]] == expected[-50:]
    assert last["next"] is None and last["previous"]
    before = api_client.get(last["previous"]).json()
    assert [row["enrollment_id"] for row in before["results"]] == expected[-100:-50]
    # The list's rows carry what the serializer says, labels included, without extra queries.
    row = first["results"][0]
    assert row["model"] and row["has_push_token"] is True and isinstance(row["labels"], list)


def _ui_counts(client, devices):
    cursor = _cursor_after(devices[3])
    return [
        _queries(client, url)[0]
        for url in (
            UI,
            UI + "?view=list",
            f"{UI}?cursor={cursor}",
            f"{UI}?view=list&cursor={cursor}",
            UI + "?page=last",
            UI + "?q=Person1",
            UI + "?q=Person1&page=last",
            UI + "?q=iPad",
        )
    ]


def _api_counts(client, devices):
    cursor = _cursor_after(devices[3])
    last = client.get(API).json()["last"]
    return [
        _queries(client, url)[0]
        for url in (API, f"{API}?cursor={cursor}", last, API + "?q=Person1", API + "?q=iPad")
    ]


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_tenant(admin_client, api_client, tenant):
    # Two users at least, so that the searches find devices in the small tenant too (a page's
    # tags and held-back counts cost a fixed number of queries, none for an empty page).
    small = _make_devices(tenant, 20, prefix="small")
    ui_small, api_small = _ui_counts(admin_client, small), _api_counts(api_client, small)
    large = _make_devices(tenant, 180, prefix="large")  # 200 in all
    assert _ui_counts(admin_client, large) == ui_small
    assert _api_counts(api_client, large) == api_small
    # Tiles: the session, the account and its tenant, the page, the capped count (a search
    # also its users), the page's tags, and for a page with devices whose terms are not
    # accepted the five queries of what they hold back; nothing per row (a deferred field
    # would be a query per tile).
    assert max(ui_small) <= 8 + 1 + 5, ui_small
    assert max(api_small) <= 5, api_small


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "%00",
        "WyJhZnRlciJd:forged",
        "eyJhIjoxfQ",
        "-" * 500,
    ],
)
def test_a_forged_cursor_is_never_a_server_error(admin_client, api_client, tenant, cursor):
    devices = _make_devices(tenant, 70)
    expected = _expected_order(tenant)
    _, page = _queries(admin_client, f"{UI}?cursor={cursor}")
    assert _tiles(page.content.decode()) == expected[:60]  # the first page
    status = 200 if cursor == "" else 400
    _, response = _queries(api_client, f"{API}?cursor={cursor}", status=status)
    # A real cursor with one character changed is refused as well.
    real = _cursor_after(devices[0])
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    assert api_client.get(f"{API}?cursor={tampered}").status_code == 400
    html = admin_client.get(f"{UI}?cursor={tampered}").content.decode()
    assert _tiles(html) == expected[:60]


@pytest.mark.django_db
def test_another_tenants_devices_never_show(admin_client, api_client, tenant, other_tenant):
    _make_devices(tenant, 65, prefix="ours")
    _make_devices(other_tenant, 65, prefix="theirs")
    urls = [UI, UI + "?page=last", UI + "?q=Person", UI + "?q=theirs", UI + "?q=iPad"]
    for url in urls:
        html = admin_client.get(url).content.decode()
        shown = _tiles(html)
        next_url = _link(html, "next")
        if next_url:
            shown += _tiles(admin_client.get(next_url).content.decode())
        assert all(enrollment_id.startswith("ours") for enrollment_id in shown), url
    for url in (API, API + "?q=Person", API + "?q=theirs"):
        data = api_client.get(url).json()
        pages = [data, api_client.get(data["last"]).json()]
        if data["next"]:
            pages.append(api_client.get(data["next"]).json())
        for page in pages:
            assert all(r["enrollment_id"].startswith("ours") for r in page["results"]), url
    assert "65 devices" in admin_client.get(UI).content.decode()


@pytest.mark.django_db
def test_search_matches_users_and_device_columns(admin_client, api_client, tenant):
    _make_devices(tenant, 40)
    Device.objects.filter(enrollment_id="dev-5").update(device_name="Kitchen iPad")
    ids = lambda html: set(_tiles(html))  # noqa: E731
    assert ids(admin_client.get(UI + "?q=kitchen").content.decode()) == {"dev-5"}
    # User 3 of 4 owns devices 3, 7, 11, ...
    by_user = ids(admin_client.get(UI + "?q=person3").content.decode())
    assert by_user == {f"dev-{i}" for i in range(3, 40, 4)}
    api = api_client.get(API + "?q=dev-user3").json()["results"]
    assert {r["enrollment_id"] for r in api} == by_user
    assert "10 devices" in admin_client.get(UI + "?q=person3").content.decode()
