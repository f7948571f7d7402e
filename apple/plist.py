"""Property lists from devices and for devices, with the limits untrusted input needs.

``loads`` accepts XML and binary plists (both are valid from a device) and refuses what
plistlib alone would not: oversized bodies, any entity declaration (billion laughs, external
entities), nesting deeper than ``MAX_DEPTH``, and a top level that is not a dictionary. It is the
one error boundary of this parser: whatever is wrong with the input, the caller sees only
``PlistError``. ``check_strings`` refuses NUL characters in any key or string (PostgreSQL cannot
store them); ``loads(..., reject_nul=True)`` runs it. ``dumps`` writes XML, keys in the order
given, ints as <integer> and bools as <true/>/<false/>.
"""

import plistlib
import re
from typing import Any

DEFAULT_MAX_SIZE = 1024 * 1024
MAX_DEPTH = 32
_MAX_NODES = 100_000
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_CONTAINER_TAG = re.compile(rb"<(/?)(?:dict|array)\s*(/?)>")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_XML_ENCODINGS = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}


class PlistError(ValueError):
    """The data is not an acceptable property list; the message says why."""


def loads(
    data: bytes,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    require_dict: bool = True,
    reject_nul: bool = False,
) -> Any:
    if not isinstance(data, bytes | bytearray):
        raise PlistError("a property list must be bytes")
    if len(data) > max_size:
        raise PlistError(f"property list larger than {max_size} bytes")
    if not data.strip():
        raise PlistError("empty body")
    data = bytes(data)
    if data.startswith(b"bplist00"):
        fmt = plistlib.FMT_BINARY
    else:
        # Entity declarations have no place in a plist; refuse before any parser sees them.
        if _ENTITY.search(data) or _DOCTYPE_SUBSET.search(data):
            raise PlistError("XML entity declarations are not allowed")
        encoding = _ENCODING.match(data)
        if encoding and encoding.group(1).lower() not in _XML_ENCODINGS:
            raise PlistError("only UTF-8 property lists are accepted")
        _check_xml_depth(data)
        fmt = plistlib.FMT_XML
    try:
        value = plistlib.loads(data, fmt=fmt)
    except Exception as exc:  # expat, plistlib and codecs raise many kinds of errors on garbage
        raise PlistError(f"not a valid property list: {type(exc).__name__}: {exc}") from exc
    # Binary plists are checked after parsing (plistlib's reader is bounded by the size cap);
    # the walk also bounds what callers that traverse the value will meet.
    _check_value(value, reject_nul=reject_nul)
    if require_dict and not isinstance(value, dict):
        raise PlistError("the top level of the property list must be a dictionary")
    return value


def check_strings(value: Any) -> None:
    """Raise ``PlistError`` if any key or string in ``value`` contains a NUL character."""
    _check_value(value, reject_nul=True)


def _check_xml_depth(data: bytes) -> None:
    depth = 0
    for match in _CONTAINER_TAG.finditer(data):
        if match.group(2):  # <dict/>
            continue
        depth += -1 if match.group(1) else 1
        if depth > MAX_DEPTH:
            raise PlistError(f"property list nested deeper than {MAX_DEPTH}")


def _check_value(value: Any, *, reject_nul: bool) -> None:
    # Iterative, and each container once: a binary plist may reference one container many times.
    seen: set[int] = set()
    stack = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            raise PlistError("property list has too many elements")
        if isinstance(item, str):
            if reject_nul and "\x00" in item:
                raise PlistError("NUL character in a string")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise PlistError(f"property list nested deeper than {MAX_DEPTH}")
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise PlistError("dictionary keys must be strings")
                if reject_nul and "\x00" in key:
                    raise PlistError("NUL character in a key")
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def dumps(value: Any) -> bytes:
    return plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=False)
