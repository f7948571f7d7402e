"""apple.cms refuses what Apple never sends, and every malformed input is a CMSError."""

import contextlib

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from apple import cms, x509util

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CERT = x509util.self_signed(KEY, x509util.name(cn="signer"), days=1)
BODY = b"<plist><dict/></plist>"
DETACHED = cms.sign(BODY, CERT, KEY, detached=True)
ATTACHED = cms.sign(BODY, CERT, KEY)


def mutate(der, change):
    info = asn1_cms.ContentInfo.load(der)
    change(info["content"])
    return info.dump(force=True)


def test_unmodified_signatures_verify():
    assert cms.verify(DETACHED, detached_content=BODY).content == BODY
    assert cms.verify(ATTACHED).content == BODY


def _version_99(sd):
    sd["version"] = 99


def _digest_oid(sd):
    sd["signer_infos"][0]["digest_algorithm"]["algorithm"] = "1.2.3.4"


def _signature_oid(sd):
    sd["signer_infos"][0]["signature_algorithm"]["algorithm"] = "1.2.3.4.5"


def _signature_ecdsa_for_rsa(sd):
    sd["signer_infos"][0]["signature_algorithm"]["algorithm"] = "sha256_ecdsa"


def _content_type(sd):
    sd["encap_content_info"]["content_type"] = "signed_data"


def _empty_attribute_values(sd):
    attrs = sd["signer_infos"][0]["signed_attrs"]
    attrs[0]["values"] = []


def _two_signers(sd):
    sd["signer_infos"] = [sd["signer_infos"][0], sd["signer_infos"][0]]


def _no_certificates(sd):
    sd["certificates"] = []


@pytest.mark.parametrize(
    "change",
    [
        _version_99,
        _digest_oid,
        _signature_oid,
        _signature_ecdsa_for_rsa,
        _content_type,
        _empty_attribute_values,
        _two_signers,
        _no_certificates,
    ],
)
def test_strict_refusals(change):
    try:
        der = mutate(DETACHED, change)
    except (ValueError, TypeError):
        pytest.skip("asn1crypto cannot even encode this mutation")
    with pytest.raises(cms.CMSError):
        cms.verify(der, detached_content=BODY)


def test_trailing_bytes_refused():
    with pytest.raises(cms.CMSError):
        cms.verify(DETACHED + b"\x00", detached_content=BODY)


def test_non_signed_data_refused():
    der = asn1_cms.ContentInfo({"content_type": "data", "content": b"x"}).dump()
    with pytest.raises(cms.CMSError, match="SignedData"):
        cms.verify(der)


def test_unknown_key_algorithm_in_certificate():
    info = asn1_cms.ContentInfo.load(DETACHED)
    cert = info["content"]["certificates"][0].chosen
    cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"] = "1.2.3.9"
    der = info.dump(force=True)
    with pytest.raises(cms.CMSError):
        cms.verify(der, detached_content=BODY)


@given(
    position=st.integers(min_value=0, max_value=len(DETACHED) - 1),
    value=st.integers(min_value=0, max_value=255),
    cut=st.booleans(),
)
def test_any_byte_mutation_is_accepted_or_cms_error(position, value, cut):
    der = (
        DETACHED[:position]
        if cut
        else DETACHED[:position] + bytes([value]) + DETACHED[position + 1 :]
    )
    with contextlib.suppress(cms.CMSError):
        cms.verify(der, detached_content=BODY)


@given(st.binary(max_size=300))
def test_random_bytes_are_cms_errors(data):
    with pytest.raises(cms.CMSError):
        cms.verify(b"\x30" + data)


def test_signer_with_a_malformed_subject_is_a_cms_error():
    # A name whose attribute value has the wrong ASN.1 type: cryptography loads the certificate
    # and fails only when the subject is read; verify must fail at its own boundary instead.
    info = asn1_cms.ContentInfo.load(DETACHED)
    cert = info["content"]["certificates"][0].chosen
    der = cert.dump()
    cn = b"signer"
    bad = der.replace(b"\x0c\x06" + cn, b"\x02\x06" + cn)  # UTF8String -> INTEGER
    assert bad != der
    signed = cms.sign(BODY, CERT, KEY, detached=True).replace(der, bad)
    with pytest.raises(cms.CMSError):
        message = cms.verify(signed, detached_content=BODY)
        message.signer.subject  # noqa: B018 - must not be reached with a broken name
