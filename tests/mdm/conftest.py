"""Fixtures of the command loop without the TLS server: a device and the identity it presents."""

import plistlib

import pytest

from tests import factories


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
