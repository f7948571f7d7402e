"""The command queue through the connect handler: order, answers, NotNow, resends, bad answers,
the terms gate and the SQL a poll costs."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment import terms
from mdm import queue
from mdm.models import Command, Device, DeviceApp, DeviceProfile
from mdm.protocol import BadMessage, Reply
from tests import factories
from tests.mdm.conftest import Poller

pytestmark = pytest.mark.django_db


def _status(command):
    command.refresh_from_db()
    return command.status


def test_idle_hands_out_by_priority_then_age_and_empty_when_done(device, poller):
    first = factories.command(device, "ProfileList")
    urgent = factories.command(device, "SecurityInfo", priority=5)
    envelope = poller.report()
    assert envelope["CommandUUID"] == str(urgent.uuid).upper()
    assert envelope["Command"] == {"RequestType": "SecurityInfo"}
    envelope = poller.answer(envelope, SecurityInfo={"PasscodePresent": True})
    assert envelope["CommandUUID"] == str(first.uuid).upper()
    reply = poller.answer(envelope, ProfileList=[])
    assert isinstance(reply, Reply) and reply.status == 200 and reply.body == b""
    assert _status(urgent) == _status(first) == Command.Status.ACKNOWLEDGED


def test_acknowledged_results_become_inventory(device, poller):
    factories.command(device, "DeviceInformation")
    envelope = poller.report()
    assert "SerialNumber" not in envelope["Command"]["Queries"]
    poller.answer(
        envelope,
        QueryResponses={
            "ProductName": "iPhone17,1",
            "ModelName": "iPhone",
            "DeviceName": "Alice's iPhone",
            "OSVersion": "18.2",
            "BuildVersion": "22C152",
            "DeviceCapacity": 256.0,
            "AvailableDeviceCapacity": 100.5,
            "BatteryLevel": 0.5,
        },
    )
    device.refresh_from_db()
    assert device.display_model == "iPhone 16 Pro" and device.device_name == "Alice's iPhone"
    assert device.capacity_gb == 256.0 and device.battery_level == 0.5 and device.inventory_at
    command = device.commands.get()
    assert command.result["QueryResponses"]["OSVersion"] == "18.2" and command.raw_result

    factories.command(device, "InstalledApplicationList")
    poller.answer(
        poller.report(),
        InstalledApplicationList=[
            {
                "Identifier": "com.example.app",
                "Name": "Example",
                "ShortVersion": "2.1",
                "Version": "210",
            }
        ],
    )
    factories.command(device, "ProfileList")
    poller.answer(
        poller.report(),
        ProfileList=[{"PayloadIdentifier": "com.example.mdm", "PayloadDisplayName": "Work"}],
    )
    assert DeviceApp.objects.get(device=device).short_version == "2.1"
    assert DeviceProfile.objects.get(device=device).display_name == "Work"


def test_not_now_waits_for_the_next_idle(device, poller):
    later = factories.command(device, "ProfileList")
    other = factories.command(device, "SecurityInfo")
    envelope = poller.report()
    assert envelope["CommandUUID"] == str(later.uuid).upper()
    envelope = poller.answer(envelope, "NotNow")
    # Not the same command again in this connection: the next one instead.
    assert envelope["CommandUUID"] == str(other.uuid).upper()
    reply = poller.answer(envelope, SecurityInfo={})
    assert reply.body == b""
    later.refresh_from_db()
    assert later.status == Command.Status.NOT_NOW and later.not_now_count == 1
    assert poller.report()["CommandUUID"] == str(later.uuid).upper()


def test_error_and_format_error_are_stored_with_the_chain(device, poller):
    failing = factories.command(device, "RemoveProfile", {"Identifier": "com.example.x"})
    malformed = factories.command(device, "ProfileList")
    chain = [{"ErrorCode": 89, "ErrorDomain": "MCProfileErrorDomain", "LocalizedDescription": "No"}]
    envelope = poller.answer(poller.report(), "Error", ErrorChain=chain)
    poller.answer(envelope, "CommandFormatError")
    failing.refresh_from_db()
    assert failing.status == Command.Status.ERROR and failing.error_chain == chain
    assert _status(malformed) == Command.Status.FORMAT_ERROR


def test_an_unanswered_command_is_handed_out_again_after_the_timeout(device, poller, settings):
    command = factories.command(device, "ProfileList")
    assert poller.report()["CommandUUID"] == str(command.uuid).upper()
    assert poller.report().body == b""  # sent a moment ago: not yet
    settings.MDM_COMMAND_RESEND_SECONDS = 0
    assert poller.report()["CommandUUID"] == str(command.uuid).upper()
    command.refresh_from_db()
    assert command.attempts == 2


@pytest.mark.parametrize("status", ["Acknowledged", "NotNow"])
def test_the_answered_command_is_not_handed_out_with_the_answer(device, poller, settings, status):
    # On PostgreSQL answer and hand-out are one statement, whose hand-out still sees the
    # answered command as sent (and, with no resend delay, due again).
    settings.MDM_COMMAND_RESEND_SECONDS = 0
    command = factories.command(device, "ProfileList")
    reply = poller.answer(poller.report(), status, ProfileList=[])
    assert reply.body == b""
    assert _status(command) == queue.ANSWERS[status]


@pytest.mark.parametrize("case", ["unknown", "foreign", "duplicate", "queued"])
def test_answers_for_commands_not_sent_to_this_device_are_refused(device, poller, tenant, case):
    command = factories.command(device, "ProfileList")
    if case == "unknown":
        answer_uuid = str(uuid.uuid4())
    elif case == "foreign":
        other = factories.device(tenant)
        foreign = factories.command(other, "ProfileList")
        Poller(other).report()
        answer_uuid = str(foreign.uuid)
    elif case == "duplicate":
        poller.answer(poller.report(), ProfileList=[])
        answer_uuid = str(command.uuid)
    else:
        answer_uuid = str(command.uuid)
    before = list(Command.objects.values_list("pk", "status", "answered_at"))
    with pytest.raises(BadMessage, match="CommandUUID"):
        poller.report("Acknowledged", CommandUUID=answer_uuid, ProfileList=[])
    assert list(Command.objects.values_list("pk", "status", "answered_at")) == before


@pytest.mark.parametrize(
    "keys",
    [
        {"Status": ["Idle"]},
        {"CommandUUID": 7},
        {"CommandUUID": "not-a-uuid"},
        {"ErrorChain": "x", "Status": "Error"},
        {"QueryResponses": ["wrong type"]},
    ],
)
def test_malformed_answers_are_refused_and_write_nothing(device, poller, keys):
    factories.command(device, "DeviceInformation")
    envelope = poller.report()
    before = list(Command.objects.values_list("status", "answered_at", "result"))
    seen = Device.objects.get().last_seen_at
    message = {"Status": "Acknowledged", "CommandUUID": envelope["CommandUUID"], **keys}
    with pytest.raises(BadMessage):
        poller.report(message.pop("Status"), **message)
    assert list(Command.objects.values_list("status", "answered_at", "result")) == before
    assert Device.objects.get().last_seen_at == seen


def test_until_the_terms_are_accepted_only_inventory_goes_out(tenant, device, poller):
    terms.publish(tenant, text_en="Be nice.")
    device.refresh_from_db()
    assert not device.terms_accepted
    config = factories.command(device, "RemoveProfile", {"Identifier": "com.example.x"})
    inventory = factories.command(device, "ProfileList")
    assert poller.report()["CommandUUID"] == str(inventory.uuid).upper()
    assert poller.report().body == b""  # configuration held back
    terms.accept(device.session, terms.current_terms(tenant))
    device.refresh_from_db()
    assert device.terms_accepted
    assert poller.report()["CommandUUID"] == str(config.uuid).upper()


def test_inventory_is_requested_when_due_and_coalesced(device, poller, settings):
    settings.MDM_INVENTORY_INTERVAL_SECONDS = 3600
    Device.objects.filter(pk=device.pk).update(inventory_requested_at=None)
    device.refresh_from_db()
    envelope = poller.report()  # never inventoried: due now
    assert envelope["Command"]["RequestType"] == "DeviceInformation"
    assert queue.request_inventory(device) == []  # all four are open already
    assert device.commands.count() == 4


def test_queries_per_poll(device, poller, settings):
    settings.MDM_INVENTORY_INTERVAL_SECONDS = 0
    poller.report()  # first poll writes last_seen_at
    with CaptureQueriesContext(connection) as idle:
        poller.report()
    factories.command(device, "ProfileList")
    factories.command(device, "SecurityInfo")
    with CaptureQueriesContext(connection) as queued:
        envelope = poller.report()
    with CaptureQueriesContext(connection) as answered:
        poller.answer(envelope, ProfileList=[{"PayloadIdentifier": "a"}])

    def count(ctx):
        return len(
            [
                q
                for q in ctx.captured_queries
                if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN"))
            ]
        )

    assert count(idle) <= 2, idle.captured_queries
    assert count(queued) <= 3, queued.captured_queries
    # ProfileList: one UPDATE makes the device due if it lost a profile the portal installed.
    assert count(answered) <= 6, answered.captured_queries
    if connection.vendor == "postgresql":  # answer and hand-out are one statement
        writes = [q["sql"] for q in answered.captured_queries if "mdm_command SET" in q["sql"]]
        assert len(writes) == 1 and writes[0].startswith("WITH answered"), writes


def test_an_inventory_answer_loads_no_deferred_device_field(device, poller, settings):
    # The pinned-device lookup brings every field the answer's processing reads (the names
    # it compares for $DEVICE_NAME too): no deferred-field queries.
    settings.MDM_INVENTORY_INTERVAL_SECONDS = 0
    factories.command(device, "DeviceInformation")
    envelope = poller.report()
    with CaptureQueriesContext(connection) as answered:
        poller.answer(envelope, QueryResponses={"DeviceName": "Bob's iPhone", "OSVersion": "18.2"})
    deferred = [  # what Django sends to load a field the lookup left out
        q["sql"]
        for q in answered.captured_queries
        if q["sql"].startswith('SELECT "mdm_device"."id", "mdm_device"."')
        and q["sql"].count('"mdm_device".') == 3
    ]
    assert deferred == []
