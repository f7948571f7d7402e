"""A DER writer for the few fixed structures the portal builds on every enrollment (the SCEP
CertRep): tag, length, contents, nothing else. A general ASN.1 library spends most of its time
building objects it then throws away; these are byte strings from the start. Reading stays with
asn1crypto (and ``apple.cms``'s narrow reader)."""

from cryptography import x509


def tlv(tag: int, contents: bytes) -> bytes:
    size = len(contents)
    if size < 0x80:
        return bytes((tag, size)) + contents
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + contents


def sequence(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """DER orders the elements of a SET OF by their encodings."""
    return tlv(0x31, b"".join(sorted(parts)))


def integer(value: int) -> bytes:
    length = value.bit_length() // 8 + 1  # room for the sign bit
    return tlv(0x02, value.to_bytes(length, "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def printable(value: str) -> bytes:
    return tlv(0x13, value.encode("ascii"))


NULL = b"\x05\x00"


def oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray()
    for arc in [40 * first + second, *rest]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, bytes(body))


def explicit(number: int, contents: bytes) -> bytes:
    """``[number] EXPLICIT``: the element wrapped in a constructed context tag."""
    return tlv(0xA0 | number, contents)


def implicit(number: int, element: bytes, *, constructed: bool = True) -> bytes:
    """``[number] IMPLICIT``: the element's own tag replaced by the context tag."""
    return bytes((0xA0 | number if constructed else 0x80 | number,)) + element[1:]


def issuer_and_serial(certificate: x509.Certificate) -> bytes:
    return sequence(certificate.issuer.public_bytes(), integer(certificate.serial_number))
