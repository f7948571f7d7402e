"""Fixtures of the enrollment flow: a tenant ready to enroll, and simulated devices."""

import pytest

from tests.conftest import TEST_PASSWORD


@pytest.fixture
def ready_tenant(tenant):
    """A tenant that can enroll: push certificate, default profile, terms of use."""
    from apple.push_identity import install_demo_push_certificate
    from enrollment import terms
    from enrollment.models import Profile

    install_demo_push_certificate(tenant)
    Profile.objects.create(
        tenant=tenant, name="Personal devices", organization="Contoso IT", is_default=True
    )
    terms.publish(tenant, text_en="Be nice.", text_de="Sei nett.")
    return tenant


@pytest.fixture
def address(ready_tenant, managed_user, settings):
    from enrollment.addresses import local_address

    return local_address(managed_user)


@pytest.fixture
def make_device(live_tls_server, ready_tenant, managed_user):
    """A simulated iPhone for the managed user, pointed at the live HTTPS server."""
    from enrollment.addresses import local_address
    from enrollment.simulator import SimulatedDevice

    devices = []

    def make(**kwargs):
        kwargs.setdefault("password", TEST_PASSWORD)
        user = kwargs.pop("user", managed_user)
        device = SimulatedDevice(
            kwargs.pop("address", None) or local_address(user),
            server=live_tls_server.url,
            verify=live_tls_server.ca_path,
            **kwargs,
        )
        devices.append(device)
        return device

    yield make
    for device in devices:
        device.close()


@pytest.fixture
def enrolled(make_device):
    return make_device().enroll()
