"""Fixtures of the command loop without the TLS server: a device and the identity it presents."""

import plistlib

import pytest

from tests import factories
from tests.apple.conftest import fake_vpp  # noqa: F401  (the Apps and Books fake)
from tests.enrollment.conftest import address, enrolled, make_device, ready_tenant  # noqa: F401
from tests.users.conftest import connection, graph  # noqa: F401  (the Entra ID fake)


@pytest.fixture
def device(tenant):
    return factories.device(tenant)


def identity_of(device):
    from mdm.device_auth import DeviceIdentity

    return DeviceIdentity(
        tenant_id=device.tenant_id,
        certificate=None,
        fingerprint=device.identity_fingerprint,
        session_public_id=device.session.public_id,
        bearer_hash=device.session.token_hash,
    )


class Poller:
    """Sends connect reports for one device the way the endpoint hands them to the handler."""

    def __init__(self, device):
        self.device = device

    def report(self, status="Idle", **keys):
        from mdm import connect

        message = {"Status": status, "EnrollmentID": self.device.enrollment_id, **keys}
        reply = connect.handle(identity_of(self.device), message, plistlib.dumps(message))
        return plistlib.loads(reply.body) if reply.body and reply.status == 200 else reply

    def answer(self, envelope, status="Acknowledged", **keys):
        return self.report(status, CommandUUID=envelope["CommandUUID"], **keys)


@pytest.fixture
def poller(device):
    return Poller(device)


@pytest.fixture
def push_certificate(tenant):
    return factories.push_certificate(tenant)


@pytest.fixture
def apns_peer(settings, push_certificate):
    """A local APNs peer that trusts the tenant's push certificate; the client points at it."""
    from apple.apns import close_connections
    from tests.apple.apns_peer import ApnsPeer

    peers = []

    def make(**options):
        options.setdefault("trusted", [push_certificate.certificate_pem.encode()])
        peer = ApnsPeer(**options).start()
        settings.APNS_BASE_URL, settings.APNS_CA_FILE = peer.url, peer.ca_file
        peers.append(peer)
        return peer

    yield make
    close_connections()
    for peer in peers:
        peer.stop()
