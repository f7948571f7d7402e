"""apple.cms's narrow reader of the shape devices send: it accepts only what the full parser
accepts, with the same content and certificates, and checks digest and signature every time."""

from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from apple import cms, x509util

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CERT = x509util.self_signed(KEY, x509util.name(cn="signer", o="123456"), days=1)
BODY = b"<plist><dict><key>Status</key><string>Idle</string></dict></plist>"
DETACHED = cms.sign(BODY, CERT, KEY, detached=True)
# A real iPhone's signed enrollment body: BER with indefinite lengths, chunked content.
IPHONE = (
    Path(__file__).parents[1] / "fixtures/vectors/oreore-ios-mdm/spec/assets/enroll_body.der"
).read_bytes()


def both(der, content=None):
    """(narrow reader's result, full parser's result or its error)."""
    narrow = cms._verify_known_shape(der, content)
    try:
        full = cms._verify(der, content)
    except Exception as exc:  # noqa: BLE001 - verify() turns these into CMSError
        full = exc
    return narrow, full


def same(narrow, full) -> bool:
    return (
        isinstance(full, cms.VerifiedMessage)
        and narrow.content == full.content
        and narrow.signer == full.signer
        and narrow.certificates == full.certificates
    )


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("detached", [True, False])
def test_what_devices_send_takes_the_narrow_reader(kind, detached):
    key = KEY if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    cert = CERT if kind == "rsa" else x509util.self_signed(key, x509util.name(cn="ec"), days=1)
    der = cms.sign(BODY, cert, key, detached=detached)
    narrow, full = both(der, BODY if detached else None)
    assert narrow is not None and same(narrow, full)


def test_a_real_iphone_message_takes_the_narrow_reader():
    narrow, full = both(IPHONE)
    assert narrow is not None and same(narrow, full)


def test_known_certificates_do_not_skip_digest_or_signature():
    assert cms.verify(DETACHED, detached_content=BODY).signer == CERT
    with pytest.raises(cms.CMSError, match="digest"):
        cms.verify(DETACHED, detached_content=BODY + b" ")
    broken = DETACHED[:-1] + bytes([DETACHED[-1] ^ 1])  # the signature is the last element
    with pytest.raises(cms.CMSError, match="signature does not match"):
        cms.verify(broken, detached_content=BODY)
    # Another key signing under the same (already loaded) certificate.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = cms.sign(BODY, CERT, other, detached=True)
    with pytest.raises(cms.CMSError, match="signature does not match"):
        cms.verify(forged, detached_content=BODY)


def resigned(change) -> bytes:
    """DETACHED with its signed attributes changed and signed again by KEY."""
    info = asn1_cms.ContentInfo.load(DETACHED)
    signer = info["content"]["signer_infos"][0]
    change(signer["signed_attrs"])
    data = b"\x31" + signer["signed_attrs"].dump(force=True)[1:]
    signer["signature"] = KEY.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return info.dump(force=True)


def _second_content_type(attrs):
    attrs.append({"type": "content_type", "values": ["data"]})


def _second_message_digest(attrs):
    digest = next(a for a in attrs if a["type"].native == "message_digest")
    attrs.append({"type": "message_digest", "values": [digest["values"][0].native]})


def _no_message_digest(attrs):
    kept = [a for a in attrs if a["type"].native != "message_digest"]
    attrs.contents = b""
    for attribute in kept:
        attrs.append(attribute)


@pytest.mark.parametrize(
    "change", [_second_content_type, _second_message_digest, _no_message_digest]
)
def test_odd_signed_attributes_are_left_to_the_full_parser(change):
    narrow, full = both(resigned(change), BODY)
    assert narrow is None and isinstance(full, Exception)


@given(
    which=st.sampled_from(["detached", "iphone"]),
    position=st.integers(min_value=0, max_value=len(IPHONE) - 1),
    value=st.integers(min_value=0, max_value=255),
    cut=st.booleans(),
)
def test_what_the_narrow_reader_accepts_the_full_parser_accepts(which, position, value, cut):
    der, content = (DETACHED, BODY) if which == "detached" else (IPHONE, None)
    position %= len(der)
    der = der[:position] if cut else der[:position] + bytes([value]) + der[position + 1 :]
    narrow, full = both(der, content)
    assert narrow is None or same(narrow, full)
