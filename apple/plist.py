"""Property lists from devices and for devices, with the limits untrusted input needs.

``loads`` accepts XML and binary plists (both are valid from a device) and refuses what
plistlib alone would not: oversized bodies, any entity declaration (billion laughs, external
entities), and a top level that is not a dictionary. ``dumps`` writes XML, keys in the order
given, ints as <integer> and bools as <true/>/<false/>.
"""

import plistlib
import re
from typing import Any
from xml.parsers.expat import ExpatError

DEFAULT_MAX_SIZE = 1024 * 1024
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)


class PlistError(ValueError):
    """The data is not an acceptable property list; the message says why."""


def loads(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE, require_dict: bool = True) -> Any:
    if not isinstance(data, bytes | bytearray):
        raise PlistError("a property list must be bytes")
    if len(data) > max_size:
        raise PlistError(f"property list larger than {max_size} bytes")
    if not data.strip():
        raise PlistError("empty body")
    if data.startswith(b"bplist00"):
        fmt = plistlib.FMT_BINARY
    else:
        # Entity declarations have no place in a plist; refuse before any parser sees them.
        if _ENTITY.search(data) or _DOCTYPE_SUBSET.search(data):
            raise PlistError("XML entity declarations are not allowed")
        fmt = plistlib.FMT_XML
    try:
        value = plistlib.loads(bytes(data), fmt=fmt)
    except (
        plistlib.InvalidFileException,
        ExpatError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise PlistError(f"not a valid property list: {exc}") from exc
    if require_dict and not isinstance(value, dict):
        raise PlistError("the top level of the property list must be a dictionary")
    return value


def dumps(value: Any) -> bytes:
    return plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=False)
