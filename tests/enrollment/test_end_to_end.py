"""The issue's end-to-end path: register → simulator enrolls over HTTPS → tile labelled
*Terms not accepted* → the user accepts → the label is gone."""

import re

import pytest

from mdm.models import Device

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_enroll_accept(admin_client, make_device, managed_user, mailoutbox):
    # Admin: Register new device → the address for the user.
    found = admin_client.get("/mobile-security/devices/register/users", {"q": "ali"}).json()
    address = found["results"][0]["address"]
    assert address.startswith("alice-123456@")

    # The device enrolls with that address.
    device = make_device(address=address).enroll()

    # The tile appears, labelled.
    page = admin_client.get("/mobile-security/devices/").content.decode()
    assert device.enrollment_id in page
    assert "Terms not accepted" in page

    # The user follows the link of the mail and accepts.
    link = re.search(r"https://\S+/terms/\S+/", mailoutbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    from django.test import Client

    phone = Client()
    assert "Be nice." in phone.get(f"/{path}").content.decode()
    assert phone.post(f"/{path}").status_code == 302
    assert 'id="terms-accepted"' in phone.get(f"/{path}").content.decode()

    page = admin_client.get("/mobile-security/devices/").content.decode()
    assert "Terms not accepted" not in page
    assert Device.objects.get().status == Device.Status.ENROLLED


def test_new_terms_version_labels_devices_again(admin_client, make_device, ready_tenant):
    from enrollment import terms

    make_device(accept_terms=True).enroll()
    assert (
        "Terms not accepted" not in admin_client.get("/mobile-security/devices/").content.decode()
    )
    terms.publish(ready_tenant, text_en="Be nicer.")
    assert "Terms not accepted" in admin_client.get("/mobile-security/devices/").content.decode()


def test_simulator_command_line(live_tls_server, ready_tenant, managed_user, capsys):
    from django.core.management import call_command

    from enrollment.addresses import local_address
    from tests.conftest import TEST_PASSWORD

    call_command(
        "simulate_device",
        local_address(managed_user),
        password=TEST_PASSWORD,
        server=live_tls_server.url,
        ca=live_tls_server.ca_path,
    )
    assert "Enrolled iPhone17,2" in capsys.readouterr().out
    assert Device.objects.filter(status=Device.Status.ENROLLED).count() == 1
