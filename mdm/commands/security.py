"""SecurityInfo and CertificateList: what the detail page says about protection and identities."""

from cryptography import x509

from .base import CommandType, ResultError, jsonable, register, result_text


@register
class SecurityInfo(CommandType):
    request_type = "SecurityInfo"
    inventory = True

    def process(self, device, result):
        info = result.get("SecurityInfo")
        if not isinstance(info, dict):
            raise ResultError("SecurityInfo must be a dictionary")
        device.security_info = jsonable(info)
        type(device).objects.filter(pk=device.pk).update(security_info=device.security_info)
        return {"SecurityInfo": device.security_info}


def _not_after(data) -> str:
    if not isinstance(data, bytes):
        return ""
    try:
        return x509.load_der_x509_certificate(data).not_valid_after_utc.isoformat()
    except ValueError:
        return ""


@register
class CertificateList(CommandType):
    request_type = "CertificateList"
    inventory = True

    def process(self, device, result):
        items = result.get("CertificateList", [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ResultError("CertificateList must be an array of dictionaries")
        device.certificates = [
            {
                "common_name": result_text(item, "CommonName"),
                "is_identity": item.get("IsIdentity") is True,
                "not_after": _not_after(item.get("Data")),
            }
            for item in items
        ]
        type(device).objects.filter(pk=device.pk).update(certificates=device.certificates)
        return {"certificates": device.certificates}
