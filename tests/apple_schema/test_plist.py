"""Plists from devices: XML and binary accepted, entities and oversized bodies refused."""

import plistlib

import pytest

from apple import plist

APPLE_DOCTYPE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC '
    b'"-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
)


def test_apple_doctype_is_accepted():
    data = (
        APPLE_DOCTYPE
        + b'<plist version="1.0"><dict><key>a</key><integer>1</integer></dict></plist>'
    )
    assert plist.loads(data) == {"a": 1}


def test_binary_parses_like_xml():
    value = {"Token": b"\x01" * 32, "Count": 3, "Flag": True, "Items": ["x"]}
    assert plist.loads(plistlib.dumps(value, fmt=plistlib.FMT_BINARY)) == plist.loads(
        plistlib.dumps(value)
    )


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<plist><dict><key>a</key><string>&lol2;</string></dict></plist>",
        b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<plist><dict><key>a</key><string>&xxe;</string></dict></plist>",
        b"<plist><dict><key>a</key>",
        b"\x00\x01garbage",
        b"",
        b"<plist><array><string>x</string></array></plist>",
    ],
    ids=["billion-laughs", "external-entity", "truncated", "garbage", "empty", "not-a-dict"],
)
def test_refused(data):
    with pytest.raises(plist.PlistError):
        plist.loads(data)


def test_oversized_is_refused_before_parsing():
    with pytest.raises(plist.PlistError, match="larger than"):
        plist.loads(b"<plist>" + b" " * 2000 + b"</plist>", max_size=1000)


def test_dumps_keeps_types_and_order():
    data = plist.dumps({"b": 1, "a": True})
    assert data.index(b"<key>b</key>") < data.index(b"<key>a</key>")
    assert b"<integer>1</integer>" in data and b"<true/>" in data
