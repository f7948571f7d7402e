"""The whole loop over real HTTPS with the simulator: queue → push to the local APNs peer →
the device connects → result stored → inventory shown; and the ways management ends."""

import time

import pytest

from enrollment.simulator.device import EnrollmentFailed
from mdm.models import Command, Device
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds=3.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


@pytest.fixture
def peer(settings, ready_tenant):
    from apple.apns import close_connections
    from apple.models import PushCertificate
    from tests.apple.apns_peer import ApnsPeer

    cert = PushCertificate.objects.get(tenant=ready_tenant)
    peer = ApnsPeer(trusted=[cert.certificate_pem.encode()]).start()
    settings.APNS_BASE_URL, settings.APNS_CA_FILE = peer.url, peer.ca_file
    yield peer
    close_connections()
    peer.stop()


def test_queue_push_connect_result_inventory(peer, make_device, api_client):
    sim = make_device(product="iPhone17,1")
    sim.enroll()
    device = Device.objects.get()
    # TokenUpdate pushed at once, and the first inventory came back during enrollment.
    assert wait_for(lambda: any(r.token == sim.push_token.hex() for r in peer.requests))
    assert device.commands.filter(status=Command.Status.ACKNOWLEDGED).count() == 4
    sim.apps["com.example.mail"] = {"Name": "Mail+", "Version": "7", "ShortVersion": "7.0"}

    pushes = len(peer.requests)
    response = api_client.post(
        f"/api/devices/{device.pk}/commands/",
        {"request_type": "InstalledApplicationList"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"
    assert wait_for(lambda: len(peer.requests) == pushes + 1)
    request = peer.requests[-1]
    assert request.token == sim.push_token.hex()
    assert request.body == f'{{"mdm":"{sim.push_magic}"}}'.encode()

    sim.connect()  # the device wakes for the push
    history = api_client.get(f"/api/devices/{device.pk}/commands/").json()
    rows = history["results"] if isinstance(history, dict) else history
    newest = rows[0]
    assert newest["uuid"] == response.json()["uuid"] and newest["status"] == "acknowledged"
    assert newest["result"]["InstalledApplicationList"][0]["Identifier"] == "com.example.mail"
    detail = api_client.get(f"/api/devices/{device.pk}/").json()
    assert detail["model"] == "iPhone 16 Pro" and detail["device_name"] == "Simulated iPhone"
    assert detail["capacity_gb"] == 128.0 and detail["os_version"] == "18.2.1"
    assert [a["identifier"] for a in detail["apps"]] == ["com.example.mail"]


def test_api_refuses_forbidden_and_invalid_commands(enrolled, api_client, other_api_client):
    device = Device.objects.get()
    before = Command.objects.count()
    for body in (
        {"request_type": "EraseDevice"},
        {"request_type": "DeviceInformation", "Queries": ["SerialNumber"]},
        {"request_type": "RemoveProfile"},
        {"request_type": 12},
    ):
        response = api_client.post(f"/api/devices/{device.pk}/commands/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()
    assert Command.objects.count() == before
    assert other_api_client.get(f"/api/devices/{device.pk}/").status_code == 404
    assert other_api_client.get(f"/api/devices/{device.pk}/commands/").status_code == 404
    response = other_api_client.post(
        f"/api/devices/{device.pk}/commands/", {"request_type": "ProfileList"}, format="json"
    )
    assert response.status_code == 404
    assert Command.objects.count() == before


def _ends_with_unrecognized(sim):
    with pytest.raises(EnrollmentFailed) as refused:
        sim.connect()
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["code"] == "com.apple.unrecognized.device"
    # ... and every later request too, check-in included, never the 401 sign-in challenge.
    for response in (
        sim.checkin(
            {
                "MessageType": "TokenUpdate",
                "Topic": sim.mdm_payload["Topic"],
                "EnrollmentID": sim.enrollment_id,
                "Token": sim.push_token,
                "PushMagic": sim.push_magic,
            }
        ),
        sim.signed_put(
            sim.mdm_payload["ServerURL"],
            {"Status": "Idle", "EnrollmentID": sim.enrollment_id},
            "application/x-apple-aspen-mdm",
        ),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "com.apple.unrecognized.device"


def test_removal_in_the_api_sends_remove_profile_then_refuses(peer, enrolled, api_client):
    device = Device.objects.get()
    assert api_client.delete(f"/api/devices/{device.pk}/").status_code == 202
    assert wait_for(lambda: peer.requests and peer.requests[-1].token == enrolled.push_token.hex())
    _ends_with_unrecognized(enrolled)
    assert enrolled.commands_answered[-1]["Command"] == {
        "RequestType": "RemoveProfile",
        "Identifier": enrolled.profile["PayloadIdentifier"],
    }
    device.refresh_from_db()
    assert device.status == Device.Status.UNENROLLED


@pytest.mark.parametrize("how", ["delete", "deactivate", "bulk-delete", "bulk-deactivate"])
def test_deleting_or_deactivating_the_user_unenrolls_their_devices(
    peer, enrolled, admin_client, managed_user, how
):
    if how == "delete":
        assert admin_client.post(f"/users/{managed_user.pk}/delete/").status_code == 302
    elif how == "deactivate":
        managed_user.is_active = False
        managed_user.save()
    else:
        action = how.split("-")[1]
        data = {"selected": [managed_user.pk], "action": action, "confirm": "yes"}
        assert admin_client.post("/users/bulk/", data).status_code in (200, 302)
    device = Device.objects.get()
    assert device.status == Device.Status.REMOVING
    assert device.commands.filter(request_type="RemoveProfile").exists()
    _ends_with_unrecognized(enrolled)
    assert Device.objects.get().status == Device.Status.UNENROLLED


def test_check_out_after_removal_is_refused_plainly(enrolled, api_client):
    device = Device.objects.get()
    api_client.delete(f"/api/devices/{device.pk}/")
    response = enrolled.checkin(
        {
            "MessageType": "CheckOut",
            "Topic": enrolled.mdm_payload["Topic"],
            "EnrollmentID": enrolled.enrollment_id,
        }
    )
    assert response.status_code == 403
    assert response.json()["code"] == "com.apple.unrecognized.device"
    assert Device.objects.get().status == Device.Status.UNENROLLED


def test_factory_device_is_enrolled(tenant):
    assert factories.device(tenant).is_manageable
