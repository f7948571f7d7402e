"""apple.der writes what asn1crypto (the reader) writes, byte for byte."""

from asn1crypto import core
from hypothesis import given
from hypothesis import strategies as st

from apple import der


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_integers(value):
    assert der.integer(value) == core.Integer(value).dump()


@given(st.binary(max_size=70_000))
def test_octet_strings_of_every_length_form(value):
    assert der.octets(value) == core.OctetString(value).dump()


@given(
    st.tuples(st.integers(0, 2), st.integers(0, 39), st.lists(st.integers(0, 2**40), max_size=8))
)
def test_object_identifiers(arcs):
    first, second, rest = arcs
    dotted = ".".join(str(arc) for arc in [first, second, *rest])
    assert der.oid(dotted) == core.ObjectIdentifier(dotted).dump()


def test_sets_are_ordered_and_tags_replaced():
    parts = [der.printable("b"), der.printable("a"), der.octets(b"\x00")]
    assert der.set_of(*parts) == b"\x31\x09" + parts[2] + parts[1] + parts[0]
    assert der.implicit(0, der.octets(b"ab"), constructed=False) == b"\x80\x02ab"
    assert der.explicit(0, der.NULL) == b"\xa0\x02\x05\x00"
