"""The MDM vendor identity that signs push certificate requests (``MDM_VENDOR_CERT``/``KEY``).

Apple's Push Certificates Portal accepts only requests signed with a vendor certificate Apple
issued. Without one configured, the embedded default makes a clearly labelled local stand-in so
the request can be produced and inspected end to end; Apple will refuse it.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from django.conf import settings

from . import x509util

STAND_IN_CN = "LOCAL STAND-IN MDM Vendor (not accepted by Apple)"


@dataclass(frozen=True)
class VendorIdentity:
    chain: tuple[x509.Certificate, ...]  # vendor certificate first, then its issuers
    private_key: object
    is_stand_in: bool


@functools.cache
def _load(cert_path: str, key_path: str, stand_in: bool) -> VendorIdentity:
    chain, key = x509util.load_identity(cert_path, key_path)
    return VendorIdentity(chain, key, stand_in)


def _stand_in_paths() -> tuple[str, str]:
    return x509util.local_identity(
        Path(settings.VAR_DIR) / "vendor", "stand-in-vendor", x509util.name(cn=STAND_IN_CN)
    )


def vendor_identity() -> VendorIdentity:
    if settings.MDM_VENDOR_CERT and settings.MDM_VENDOR_KEY:
        return _load(settings.MDM_VENDOR_CERT, settings.MDM_VENDOR_KEY, False)
    return _load(*_stand_in_paths(), True)
