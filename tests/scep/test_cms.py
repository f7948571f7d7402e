"""apple.cms: sign and verify, attached and detached, and a real iPhone's signed body."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from apple import cms, x509util

VECTOR = Path(__file__).parents[1] / "fixtures/vectors/oreore-ios-mdm/spec/assets/enroll_body.der"


def identity(key):
    return x509util.self_signed(key, x509util.name(cn="signer"), days=1), key


@pytest.fixture(params=["rsa", "ec"])
def signer(request):
    if request.param == "rsa":
        return identity(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return identity(ec.generate_private_key(ec.SECP256R1()))


def test_attached_round_trip_keeps_bytes(signer):
    content = b"<plist>\r\n\n</plist>"
    message = cms.verify(cms.sign(content, *signer))
    assert message.content == content and message.signer == signer[0]


def test_detached_round_trip_and_tampering(signer):
    signature = cms.sign(b"body", *signer, detached=True)
    assert cms.verify(signature, detached_content=b"body").signer == signer[0]
    with pytest.raises(cms.CMSError, match="digest"):
        cms.verify(signature, detached_content=b"bodY")
    with pytest.raises(cms.CMSError, match="without content"):
        cms.verify(signature)


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x01", b"not der at all"])
def test_garbage_is_a_cms_error(data):
    with pytest.raises(cms.CMSError):
        cms.verify(data)


def test_real_iphone_enrollment_body():
    message = cms.verify(VECTOR.read_bytes())
    assert b"<key>PRODUCT</key>" in message.content
    assert message.signer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Apple Inc."
    )
