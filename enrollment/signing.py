"""The identity that signs enrollment profiles (CMS SignedData, attached).

Production points ``PROFILE_SIGNING_CERT``/``PROFILE_SIGNING_KEY`` at a publicly trusted
certificate (often the TLS certificate of the portal's host), so devices show "Verified". The
embedded default makes a local signing certificate once, under ``VAR_DIR``.
"""

import functools
from pathlib import Path

from cryptography import x509
from django.conf import settings

from apple import cms, x509util


@functools.cache
def _load(cert_path: str, key_path: str):
    chain, key = x509util.load_identity(cert_path, key_path)
    return chain[0], key, chain[1:]


def _local_paths() -> tuple[str, str]:
    digital_signature_only = x509.KeyUsage(
        True, False, False, False, False, False, False, False, False
    )
    return x509util.local_identity(
        Path(settings.VAR_DIR) / "profile-signing",
        "signing",
        x509util.name(cn="MDM Portal profile signing (local)", o="MDM Portal local"),
        extensions=[(digital_signature_only, True)],
    )


def signing_identity():
    """(certificate, private key, extra chain certificates)."""
    if settings.PROFILE_SIGNING_CERT and settings.PROFILE_SIGNING_KEY:
        return _load(settings.PROFILE_SIGNING_CERT, settings.PROFILE_SIGNING_KEY)
    return _load(*_local_paths())


def sign_profile(xml: bytes) -> bytes:
    certificate, key, chain = signing_identity()
    return cms.sign(xml, certificate, key, certificates=chain)
