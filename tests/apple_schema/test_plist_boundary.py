"""apple.plist: one error type for any malformed input, a depth cap, the NUL check."""

import contextlib
import plistlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apple import plist

GOOD = plistlib.dumps({"MessageType": "Authenticate", "Topic": "com.apple.mgmt.x", "N": [1, 2]})


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0" encoding="x-unknown"?><plist><dict/></plist>',
        b'<?xml version="1.0" encoding="utf-16"?><plist><dict/></plist>',
        b"<plist><dict><key>a</key><date>not a date</date></dict></plist>",
        b"<plist><dict><key>a</key><integer>1.5</integer></dict></plist>",
        b"<plist><dict><key>a</key></dict></plist>",
        b"bplist00" + b"\xff" * 40,
        b"<plist>" + b"<array>" * 33 + b"</array>" * 33 + b"</plist>",
    ],
)
def test_malformed_is_plist_error(data):
    with pytest.raises(plist.PlistError):
        plist.loads(data, require_dict=False)


def _nested(depth):
    value = {}
    for _ in range(depth):
        value = {"k": value}
    return value


def test_depth_cap_xml_and_binary():
    for fmt in (plistlib.FMT_XML, plistlib.FMT_BINARY):
        assert plist.loads(plistlib.dumps(_nested(plist.MAX_DEPTH - 1), fmt=fmt))
        with pytest.raises(plist.PlistError, match="deeper"):
            plist.loads(plistlib.dumps(_nested(plist.MAX_DEPTH + 5), fmt=fmt))


def test_nul_in_strings_and_keys():
    for value in ({"a": "x\x00y"}, {"a\x00": "x"}, {"a": ["ok", {"b": "\x00"}]}):
        with pytest.raises(plist.PlistError, match="NUL"):
            plist.check_strings(value)
        binary = plistlib.dumps(value, fmt=plistlib.FMT_BINARY)
        assert plist.loads(binary) == value  # allowed unless asked
        with pytest.raises(plist.PlistError, match="NUL"):
            plist.loads(binary, reject_nul=True)
    plist.check_strings({"a": ["fine", b"\x00 bytes are data", 1]})


@given(
    position=st.integers(min_value=0, max_value=len(GOOD) - 1),
    insert=st.binary(min_size=0, max_size=8),
    drop=st.integers(min_value=0, max_value=8),
)
def test_mutated_xml_is_dict_or_plist_error(position, insert, drop):
    data = GOOD[:position] + insert + GOOD[position + drop :]
    with contextlib.suppress(plist.PlistError):
        assert isinstance(plist.loads(data, reject_nul=True), dict)


BINARY = plistlib.dumps({"a": [1, "x", b"y", {"b": True}], "c": 2.5}, fmt=plistlib.FMT_BINARY)


@given(
    position=st.integers(min_value=8, max_value=len(BINARY) - 1),
    value=st.integers(min_value=0, max_value=255),
)
def test_mutated_binary_is_dict_or_plist_error(position, value):
    data = BINARY[:position] + bytes([value]) + BINARY[position + 1 :]
    with contextlib.suppress(plist.PlistError):
        plist.loads(data, reject_nul=True)
