"""The body of the enrollment POSTs: the device's machine info, CMS-signed or plain.

Devices differ in what they send (iOS 18: ``application/pkcs7-signature`` with a CMS body; iOS 15:
a form content type; Apple's article: plain XML), so the content type is ignored and the raw body
decides: an ASN.1 SEQUENCE (0x30) is unwrapped as CMS, anything else is read as a plist.
"""

from dataclasses import dataclass, field

from cryptography import x509
from django.conf import settings

from apple import cms, plist, x509util

MAX_BODY = 256 * 1024


class MachineInfoError(ValueError):
    pass


@dataclass
class MachineInfo:
    product: str = ""
    version: str = ""
    os_version: str = ""
    language: str = ""
    signed: bool = False
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "PRODUCT": self.product,
            "VERSION": self.version,
            "OS_VERSION": self.os_version,
            "LANGUAGE": self.language,
            "signed": self.signed,
        }


def parse(body: bytes) -> MachineInfo:
    if not body:
        return MachineInfo()
    if len(body) > MAX_BODY:
        raise MachineInfoError("body too large")
    signed = body[:1] == b"\x30"
    if signed:
        try:
            message = cms.verify(body)
        except cms.CMSError as exc:
            raise MachineInfoError(f"bad CMS signature: {exc}") from exc
        if settings.ENROLLMENT_VERIFY_DEVICE_SIGNATURE:
            try:
                _check_device_chain(message.signer, message.certificates)
            except MachineInfoError:
                raise
            except Exception as exc:  # odd keys or hash algorithms in a device's chain
                raise MachineInfoError(f"unusable device certificate chain: {exc}") from exc
        content = message.content
    else:
        content = body
    try:
        # NUL characters cannot be stored (PostgreSQL) and are never in a real device's info.
        data = plist.loads(content, max_size=MAX_BODY, reject_nul=True)
    except plist.PlistError as exc:
        raise MachineInfoError(str(exc)) from exc
    # Identifiers that user enrollment forbids are dropped rather than kept by accident.
    for forbidden in ("UDID", "SERIAL", "IMEI", "MEID"):
        data.pop(forbidden, None)

    def text(key):
        value = data.get(key, "")
        return value[:64] if isinstance(value, str) else ""

    return MachineInfo(
        product=text("PRODUCT"),
        version=text("VERSION"),
        os_version=text("OS_VERSION"),
        language=text("LANGUAGE"),
        signed=signed,
        extra={k: v for k, v in data.items() if isinstance(v, str | int | bool)},
    )


def _check_device_chain(signer: x509.Certificate, certificates) -> None:
    """Optional: the signer must chain to a CA of ``ENROLLMENT_DEVICE_CA_FILE`` (Apple's
    iPhone device CAs). A plain issuer walk: Apple's device chain uses algorithms and
    extensions that a TLS-style path validator refuses."""
    with open(settings.ENROLLMENT_DEVICE_CA_FILE, "rb") as fh:
        anchors = x509.load_pem_x509_certificates(fh.read())
    pool = [*certificates, *anchors]
    current = signer
    for _ in range(6):
        if any(current == anchor for anchor in anchors):
            return
        issuer = next((c for c in pool if x509util.signed_by(current, c)), None)
        if issuer is None or issuer == current:
            break
        current = issuer
    raise MachineInfoError("the request is not signed by a device of Apple's device CA")
