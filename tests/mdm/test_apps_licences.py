"""User-based Apps and Books licences (mdm.licences) against the local fake Apps and Books
server: batches, exhaustion, 429/503, per-user errorNumbers, idempotency and concurrency."""

import threading

import pytest
from django.db import connection

from apple.models import VppAsset, VppEvent, VppUser
from mdm import licences, selfservice, tasks
from mdm.models import Licence
from tests import factories
from tests.apple.fakes import NO_LICENCE_LEFT, USER_NOT_FOUND
from users.models import Tag

pytestmark = pytest.mark.django_db

State = Licence.State
ADAM_ID = "361304891"  # the fake's first asset: 10 licences, none assigned


@pytest.fixture
def setup(tenant, fake_vpp):
    fake_vpp.retry_after = "0"
    token = factories.vpp_token(tenant, fake=fake_vpp)
    asset = factories.vpp_asset(token, ADAM_ID)
    app = factories.app(tenant, asset=asset)
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    app.tags.add(tag)
    return app, tag


def _users(tenant, tag, count, **fields):
    users = [factories.managed_user(tenant, **fields) for _ in range(count)]
    tag.users.add(*users)
    return users


def _states(app) -> dict:
    return dict(Licence.objects.filter(app=app).values_list("user_id", "state"))


def _client_ids(users) -> set[str]:
    return set(VppUser.objects.filter(user__in=users).values_list("client_user_id", flat=True))


def _settle():
    """Ask Apple about the jobs (GET status), as the beat does."""
    from apple.models import VppToken
    from apple.vpp import events

    for row in VppToken.objects.all():
        events.refresh_events(row)


def test_tagged_users_get_licences_in_the_largest_batches(setup, tenant, fake_vpp):
    app, tag = setup
    fake_vpp.limits.update(maxClientUserIds=3, maxUsers=2)
    users = _users(tenant, tag, 7)

    report = licences.run(tenant.pk)
    assert report.associated == 7 and report.errors == []
    assert fake_vpp.calls("users/create") == 4  # ceil(7 / 2)
    assert fake_vpp.calls("assets/associate") == 3  # ceil(7 / 3)
    created = [u for _m, p, b in fake_vpp.requests if p == "users/create" for u in b["users"]]
    assert {u["managedAppleId"] for u in created} == {u.managed_apple_id for u in users}
    assert set(_states(app).values()) == {State.ASSOCIATING}
    asset = VppAsset.objects.get()
    assert (asset.available_count, asset.assigned_count) == (3, 7)  # reserved

    _settle()
    assert set(_states(app).values()) == {State.ASSIGNED}
    assert fake_vpp.holders(ADAM_ID) == _client_ids(users)
    assert set(VppUser.objects.values_list("status", flat=True)) == {VppUser.Status.REGISTERED}

    licences.run(tenant.pk)  # again: nothing more to ask
    assert fake_vpp.calls("assets/associate") == 3 and fake_vpp.calls("users/create") == 4
    assert fake_vpp.duplicate_associations == 0


def test_untagging_releases_the_licence_and_retagging_takes_it_again(setup, tenant, fake_vpp):
    app, tag = setup
    keep, leave = _users(tenant, tag, 2)
    licences.run(tenant.pk)
    _settle()
    tag.users.remove(leave)
    licences.run(tenant.pk)
    assert _states(app)[leave.pk] == State.DISASSOCIATING
    disassociated = [b for _m, p, b in fake_vpp.requests if p == "assets/disassociate"]
    assert disassociated == [
        {
            "assets": [{"adamId": ADAM_ID, "pricingParam": "STDQ"}],
            "clientUserIds": list(_client_ids([leave])),
        }
    ]
    _settle()
    assert _states(app) == {keep.pk: State.ASSIGNED}
    assert fake_vpp.holders(ADAM_ID) == _client_ids([keep])
    assert VppAsset.objects.get().available_count == 9

    tag.users.add(leave)
    licences.run(tenant.pk)
    _settle()
    assert _states(app) == {keep.pk: State.ASSIGNED, leave.pk: State.ASSIGNED}
    assert fake_vpp.calls("users/create") == 1  # the Apps and Books user stays
    assert fake_vpp.duplicate_associations == 0


def test_a_tag_removed_before_apple_was_asked_costs_no_call(setup, tenant, fake_vpp):
    app, tag = setup
    (user,) = _users(tenant, tag, 1)
    licences.plan(app)
    tag.users.remove(user)
    licences.run(tenant.pk)
    assert _states(app) == {} and fake_vpp.calls("assets/associate") == 0


def test_users_beyond_the_available_licences_get_no_licence(setup, tenant, fake_vpp):
    app, tag = setup
    VppAsset.objects.update(available_count=2)
    users = _users(tenant, tag, 5)
    report = licences.run(tenant.pk)
    assert (report.associated, report.no_licence) == (2, 3)
    _settle()
    states = _states(app)
    assert sorted(states.values()) == [State.ASSIGNED] * 2 + [State.NO_LICENCE] * 3
    assert [states[u.pk] for u in users[:2]] == [State.ASSIGNED] * 2  # first come, first served

    VppAsset.objects.update(available_count=1)  # one more bought
    licences.run(tenant.pk)
    _settle()
    assert sorted(_states(app).values()) == [State.ASSIGNED] * 3 + [State.NO_LICENCE] * 2


def test_apple_running_out_is_a_per_user_state_not_a_crash(setup, tenant, fake_vpp):
    app, tag = setup
    fake_vpp.assets[0]["availableCount"] = 1  # another MDM took the rest meanwhile
    _users(tenant, tag, 3)
    licences.run(tenant.pk)
    _settle()
    rows = sorted(Licence.objects.filter(app=app), key=lambda r: r.state)
    assert [r.state for r in rows] == [State.ASSIGNED, State.FAILED, State.FAILED]
    assert {(r.error_number, r.error_text) for r in rows[1:]} == {
        (NO_LICENCE_LEFT["errorNumber"], NO_LICENCE_LEFT["errorMessage"])
    }
    assert VppAsset.objects.get().available_count == 9  # the two not taken were given back


def test_users_without_a_managed_apple_id_are_skipped_with_a_state(setup, tenant, fake_vpp):
    app, tag = setup
    (user,) = _users(tenant, tag, 1, managed_apple_id="")
    licences.run(tenant.pk)
    assert _states(app) == {user.pk: State.NO_APPLE_ID}
    assert fake_vpp.calls("users/create") == fake_vpp.calls("assets/associate") == 0
    user.managed_apple_id = "later@example.appleid.com"
    user.save()
    licences.run(tenant.pk)
    _settle()
    assert _states(app) == {user.pk: State.ASSIGNED}


def test_apples_error_numbers_are_kept_per_user(setup, tenant, fake_vpp):
    app, tag = setup
    ok, refused, unknown = _users(tenant, tag, 3)
    fake_vpp.user_errors[refused.managed_apple_id] = {
        "errorNumber": 9700,
        "errorMessage": "The user's country does not match the token's",
    }
    fake_vpp.user_errors[unknown.managed_apple_id + "-later"] = {}  # noise: ignored
    licences.plan(app)
    licences.run(tenant.pk)
    _settle()
    rows = {r.user_id: r for r in Licence.objects.filter(app=app)}
    assert rows[ok.pk].state == State.ASSIGNED
    assert rows[refused.pk].state == State.FAILED
    assert rows[refused.pk].error_number == 9700
    assert "country" in rows[refused.pk].error_text
    assert VppUser.objects.get(user=refused).status == VppUser.Status.FAILED


def test_a_user_apple_does_not_know_yet_is_asked_again(setup, tenant, fake_vpp):
    app, tag = setup
    (user,) = _users(tenant, tag, 1)
    licences.run(tenant.pk)  # creates the Apps and Books user
    (client_id,) = _client_ids([user])
    _settle()
    # Apple forgot the user (registration still running there): 9609 for the association.
    Licence.objects.update(state=State.PENDING, event_id="")
    fake_vpp.assignments.clear()
    fake_vpp.user_errors[client_id] = USER_NOT_FOUND
    licences.run(tenant.pk)
    _settle()
    licence = Licence.objects.get()
    assert (licence.state, licence.error_number) == (State.PENDING, 9609)
    del fake_vpp.user_errors[client_id]
    tasks.follow_licence_jobs()  # the beat sends what waits…
    _settle()
    assert Licence.objects.get().state == State.ASSIGNED


def test_throttling_and_unavailability_are_waited_out(setup, tenant, fake_vpp):
    app, tag = setup
    _users(tenant, tag, 2)
    fake_vpp.throttle_next.add("users/create")  # 429 with Retry-After
    fake_vpp.unavailable_next.add("assets/associate")  # bare 503
    report = licences.run(tenant.pk)
    assert report.associated == 2 and report.errors == []
    assert fake_vpp.calls("users/create") == fake_vpp.calls("assets/associate") == 2
    _settle()
    assert set(_states(app).values()) == {State.ASSIGNED}


def test_apple_unreachable_leaves_the_licences_waiting(setup, tenant, fake_vpp, settings):
    app, tag = setup
    _users(tenant, tag, 2)
    licences.run(tenant.pk)
    _settle()
    tag2 = Tag.objects.create(tenant=tenant, name="More")
    app.tags.add(tag2)
    _users(tenant, tag2, 1)
    fake_vpp.stop()
    settings.VPP_BASE_URL = "http://127.0.0.1:9/mdm/v2"
    from apple.vpp import client as vpp_client

    original = vpp_client.VppClient.__init__

    def impatient(self, *args, **kwargs):
        original(self, *args, **{**kwargs, "max_retries": 0})

    vpp_client.VppClient.__init__ = impatient
    try:
        report = licences.run(tenant.pk)
    finally:
        vpp_client.VppClient.__init__ = original
    assert report.errors and "unreachable" in report.errors[0]
    assert sorted(_states(app).values()) == [State.ASSIGNED] * 2 + [State.PENDING]
    assert VppAsset.objects.get().available_count == 8  # nothing stays reserved


def test_running_twice_sends_nothing_twice(setup, tenant, fake_vpp):
    app, tag = setup
    fake_vpp.events_finish_at_once = False
    _users(tenant, tag, 4)
    licences.run(tenant.pk)
    licences.run(tenant.pk)  # jobs still pending at Apple: nothing sent again
    assert fake_vpp.calls("assets/associate") == 1
    fake_vpp.finish_events()
    _settle()
    _settle()
    licences.run(tenant.pk)
    assert fake_vpp.calls("assets/associate") == 1
    assert fake_vpp.duplicate_associations == 0
    assert set(_states(app).values()) == {State.ASSIGNED}


def test_a_run_overtaken_by_another_sends_nothing_twice(setup, tenant, fake_vpp, monkeypatch):
    """Deterministic interleaving: a second run starts while the first has claimed its
    licences and is creating the Apps and Books users."""
    from apple.vpp import users as vpp_users

    app, tag = setup
    _users(tenant, tag, 3)
    original = vpp_users.ensure_users
    overtaken = []

    def slow(row, users):
        if not overtaken:
            overtaken.append(licences.run(tenant.pk))
        return original(row, users)

    monkeypatch.setattr(vpp_users, "ensure_users", slow)
    first = licences.run(tenant.pk)
    assert (first.associated, overtaken[0].associated) == (3, 0)
    _settle()
    assert fake_vpp.calls("assets/associate") == 1 and fake_vpp.duplicate_associations == 0
    assert set(_states(app).values()) == {State.ASSIGNED}


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_associate_each_user_once(tenant, fake_vpp):
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once need PostgreSQL (SQLite locks the shared memory DB)")
    token = factories.vpp_token(tenant, fake=fake_vpp)
    app = factories.app(tenant, asset=factories.vpp_asset(token, ADAM_ID))
    tag = Tag.objects.create(tenant=tenant, name="Sales")
    app.tags.add(tag)
    users = _users(tenant, tag, 8)
    fake_vpp.limits.update(maxClientUserIds=2)
    start = threading.Barrier(3)
    errors = []

    def worker():
        try:
            start.wait()
            licences.run(tenant.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _settle()
    associated = [
        c for _m, p, b in fake_vpp.requests if p == "assets/associate" for c in b["clientUserIds"]
    ]
    assert sorted(associated) == sorted(_client_ids(users))  # each user once
    assert fake_vpp.duplicate_associations == 0
    assert VppUser.objects.count() == 8
    assert set(_states(app).values()) == {State.ASSIGNED}
    assert VppAsset.objects.get().available_count == 2


def test_notifications_settle_jobs_in_parts_and_duplicates_do_no_harm(
    setup, tenant, fake_vpp, client
):
    from apple.vpp import notifications

    app, tag = setup
    fake_vpp.events_finish_at_once = False
    users = _users(tenant, tag, 3)
    licences.run(tenant.pk)
    fake_vpp.finish_events()
    (event_id,) = [e for e, v in fake_vpp.events.items() if v["eventType"] == "ASSOCIATE"]
    body = fake_vpp.notification(event_id)
    first, rest = dict(body), dict(body)
    first["notification"] = body["notification"] | {
        "assignments": body["notification"]["assignments"][:1]
    }
    rest["notification"] = body["notification"] | {
        "assignments": body["notification"]["assignments"][1:]
    }
    rest["notificationId"] = "second"
    row = app.asset.token
    notifications.handle(row, first)
    assert sorted(_states(app).values()) == [State.ASSIGNED] + [State.ASSOCIATING] * 2
    assert VppEvent.objects.get(event_id=event_id).status == VppEvent.Status.PENDING
    notifications.handle(row, rest)
    notifications.handle(row, {**rest, "notificationId": "third"})  # Apple delivers twice
    assert set(_states(app).values()) == {State.ASSIGNED}
    assert VppAsset.objects.get().available_count == 7
    assert fake_vpp.holders(ADAM_ID) == _client_ids(users)


def test_deleting_a_user_retires_their_apps_and_books_user(setup, tenant, fake_vpp):
    app, tag = setup
    (user,) = _users(tenant, tag, 1)
    licences.run(tenant.pk)
    _settle()
    (client_id,) = _client_ids([user])
    tokens = licences.retire_users([user.pk])
    user.delete()
    assert tasks.retire_vpp_users(tokens) == 1
    _settle()
    vpp_user = VppUser.objects.get()
    assert (vpp_user.status, vpp_user.user_id) == (VppUser.Status.RETIRED, None)
    assert fake_vpp.user(client_id)["status"] == "Retired"
    assert fake_vpp.holders(ADAM_ID) == set()
    assert Licence.objects.count() == 0


def test_self_service_request_assigns_and_withdrawing_releases(tenant, fake_vpp):
    token = factories.vpp_token(tenant, fake=fake_vpp)
    app = factories.app(tenant, asset=factories.vpp_asset(token, ADAM_ID), install_mode="available")
    everyone = factories.app(tenant, install_mode="available")  # no tags: offered to all
    hidden = factories.app(tenant, install_mode="available")
    tag, other = (
        Tag.objects.create(tenant=tenant, name="Sales"),
        Tag.objects.create(tenant=tenant, name="Board"),
    )
    app.tags.add(tag)
    hidden.tags.add(other)
    (user,) = _users(tenant, tag, 1)
    assert list(selfservice.offered_apps(user)) == sorted([app, everyone], key=lambda a: a.name)
    with pytest.raises(selfservice.NotOffered):
        selfservice.request(hidden, user)

    licences.run(tenant.pk)
    assert _states(app) == {}  # available, not installed by tag
    selfservice.request(app, user)
    licences.run(tenant.pk)
    _settle()
    assert _states(app) == {user.pk: State.ASSIGNED}
    selfservice.withdraw(app, user)
    licences.run(tenant.pk)
    _settle()
    assert _states(app) == {} and fake_vpp.holders(ADAM_ID) == set()
