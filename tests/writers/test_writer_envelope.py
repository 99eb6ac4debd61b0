"""The segment/envelope writer: fixed-width ISA, counts, control numbers, refusing delimiters in data."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.writers import FunctionalGroup, WriterError, format_decimal, format_implied, write_interchange
from partners.profile import Delimiters

from .support import check_envelope, envelope, pyx12_read, safe_text, tokenize

SET = [["ST", "850"], ["BEG", "00", "SA", "PO1", None, "20240101"], ["CTT", "0"]]


def test_isa_is_fixed_width_and_versions_pick_isa11_isa12() -> None:
    for version, isa11, isa12 in (
        ("004010", "U", "00401"),
        ("004010VICS", "U", "00401"),
        ("005010", "^", "00501"),
        ("005010X231A1", "^", "00501"),
    ):
        data = write_interchange(envelope(version, isa13=42, gs06=7), [("PO", [SET])], [1])
        text = data.decode()
        isa = text.split("~")[0]
        assert len(isa) == 105 and text[105] == "~" and text[104] == ":"
        fields = isa.split("*")
        assert [len(f) for f in fields[1:]] == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
        assert fields[9:14] == ["240229", "2359", isa11, isa12, "000000042"]
        tokens = tokenize(data)
        gs = tokens.find("GS")[0]
        assert gs[4:9] == ["20240229", "2359", "7", "X", version]
        assert tokens.find("IEA")[0] == ["IEA", "1", "000000042"]
        check_envelope(tokens)
        ids, errors = pyx12_read(data)
        assert errors == [] and ids[0] == "ISA" and ids[-1] == "IEA"


def test_st03_written_for_5010_implementation_versions_only() -> None:
    st_4010 = tokenize(write_interchange(envelope("004010"), [("PO", [SET])], [5])).find("ST")[0]
    st_5010 = tokenize(write_interchange(envelope("005010"), [("PO", [SET])], [5])).find("ST")[0]
    st_x231 = tokenize(write_interchange(envelope("005010X231A1"), [("FA", [[["ST", "999"]]])], [5])).find("ST")[0]
    assert st_4010 == ["ST", "850", "0005"]
    assert st_5010 == ["ST", "850", "0005"]
    assert st_x231 == ["ST", "999", "0005", "005010X231A1"]


def test_trailing_empty_elements_and_components_are_trimmed() -> None:
    body = [["ST", "856"], ["REF", "BM", "1", None, None], ["AK4", ["3", "", ""], None, "7"], ["N1", "ST", "", None]]
    tokens = tokenize(write_interchange(envelope(), [("SH", [body])], [1]))
    assert tokens.find("REF")[0] == ["REF", "BM", "1"]
    assert tokens.find("AK4")[0] == ["AK4", "3", "", "7"]
    assert tokens.find("N1")[0] == ["N1", "ST"]


def test_segment_without_data_is_refused() -> None:
    with pytest.raises(WriterError) as info:
        write_interchange(envelope(), [("PO", [[["ST", "850"], ["REF", None, ""]]])], [1])
    assert info.value.field == "REF01"


def test_composite_joined_with_component_separator() -> None:
    delims = Delimiters(element="|", component=">", segment="\n", segment_suffix="", repetition="^")
    body = [["ST", "997"], ["AK4", ["3", "2"], "", "7"]]
    data = write_interchange(envelope(delimiters=delims), [("FA", [body])], [1])
    assert b"AK4|3>2||7\n" in data
    check_envelope(tokenize(data))


@pytest.mark.parametrize(
    ("value", "field"),
    [("A*B", "N102"), ("A~B", "N102"), ("A:B", "N102"), ("line\nbreak", "N102"), ("tab\there", "N102")],
)
def test_delimiters_and_control_characters_in_data_are_refused(value: str, field: str) -> None:
    body = [["ST", "850"], ["N1", "ST", value]]
    with pytest.raises(WriterError) as info:
        write_interchange(envelope(), [("PO", [body])], [1])
    assert info.value.field == field
    assert "N102" in str(info.value)


def test_repetition_separator_is_data_in_4010_and_a_delimiter_in_5010() -> None:
    body = [["ST", "850"], ["N1", "ST", "A^B"]]
    assert b"N1*ST*A^B~" in write_interchange(envelope("004010"), [("PO", [body])], [1])
    with pytest.raises(WriterError, match="N102"):
        write_interchange(envelope("005010"), [("PO", [body])], [1])


def test_component_refused_inside_composite_names_the_component() -> None:
    with pytest.raises(WriterError) as info:
        write_interchange(envelope(), [("FA", [[["ST", "997"], ["AK4", ["3", "a:b"]]]])], [1])
    assert info.value.field == "AK401-2"


def test_non_ascii_refused_by_default_and_allowed_with_utf8() -> None:
    body = [["ST", "850"], ["N1", "ST", "Café Müller"]]
    with pytest.raises(WriterError, match="N102"):
        write_interchange(envelope(), [("PO", [body])], [1])
    env = dataclasses.replace(envelope(), encoding="utf-8")
    assert "Café Müller".encode() in write_interchange(env, [("PO", [body])], [1])


@pytest.mark.parametrize(
    ("delims", "field"),
    [
        (Delimiters(element="*", component="*"), "delimiters"),
        (Delimiters(element="A"), "delimiters.element"),
        (Delimiters(segment="~~"), "delimiters.segment"),
        (Delimiters(segment_suffix="x"), "delimiters.segment_suffix"),
    ],
)
def test_bad_delimiters_are_refused(delims: Delimiters, field: str) -> None:
    with pytest.raises(WriterError) as info:
        write_interchange(envelope(delimiters=delims), [("PO", [SET])], [1])
    assert info.value.field == field


def test_envelope_parameters_are_checked() -> None:
    with pytest.raises(WriterError, match="ISA06"):
        write_interchange(envelope(sender="A" * 16), [("PO", [SET])], [1])
    with pytest.raises(WriterError, match="ISA13"):
        write_interchange(envelope(isa13=1_000_000_000), [("PO", [SET])], [1])
    with pytest.raises(WriterError, match="ST02"):
        write_interchange(envelope(), [("PO", [SET, SET])], [1])
    with pytest.raises(WriterError, match="repeats"):
        write_interchange(envelope(), [("PO", [SET, SET])], [3, 3])
    with pytest.raises(WriterError, match="version"):
        write_interchange(envelope("4010"), [("PO", [SET])], [1])
    with pytest.raises(WriterError, match="GS08"):
        write_interchange(envelope("004010"), [FunctionalGroup("PO", [SET], "005010")], [1])
    with pytest.raises(WriterError, match="ST"):
        write_interchange(envelope(), [("PO", [[["BEG", "00"]]])], [1])
    with pytest.raises(WriterError, match="envelope segment"):
        write_interchange(envelope(), [("PO", [[["ST", "850"], ["SE", "2", "0001"]]])], [1])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("10.50"), "10.5"),
        (Decimal("10.00"), "10"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.000"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("-12.340"), "-12.34"),
        (Decimal("1.5E-7"), "0.00000015"),
        (7, "7"),
    ],
)
def test_format_decimal(value: Decimal, text: str) -> None:
    assert format_decimal(value, "X") == text


def test_format_implied_refuses_rounding_and_non_finite() -> None:
    assert format_implied(Decimal("123.45"), 2, "TDS01") == "12345"
    assert format_implied(Decimal("-0.5"), 2, "SAC05") == "-50"
    assert format_implied(Decimal("1E+2"), 2, "TDS01") == "10000"
    with pytest.raises(WriterError, match="TDS01"):
        format_implied(Decimal("1.005"), 2, "TDS01")
    with pytest.raises(WriterError, match="finite"):
        format_decimal(Decimal("NaN"), "IT104")


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12, places=None))
def test_format_decimal_is_exact_plain_and_minimal(value: Decimal) -> None:
    text = format_decimal(value, "X")
    assert Decimal(text) == value
    assert "E" not in text.upper()
    if "." in text:
        assert not text.endswith("0") and not text.endswith(".")


segment_strategy = st.builds(
    lambda seg_id, elements: [seg_id, *elements],
    st.sampled_from(["REF", "N1", "DTM", "LIN", "SN1", "PID", "MSG"]),
    st.lists(st.one_of(st.none(), safe_text()), max_size=6).filter(lambda e: any(e)),
)
set_strategy = st.builds(
    lambda set_id, body: [["ST", set_id], *body],
    st.sampled_from(["850", "856", "810"]),
    st.lists(segment_strategy, max_size=8),
)
groups_strategy = st.lists(
    st.tuples(st.sampled_from(["PO", "SH", "IN"]), st.lists(set_strategy, min_size=1, max_size=4)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(
    groups=groups_strategy,
    version=st.sampled_from(["004010", "004010VICS", "005010"]),
    isa13=st.integers(1, 999_999_999),
    gs06=st.integers(1, 999_999_000),
    first_st=st.integers(1, 99_990),
    suffix=st.sampled_from(["", "\n", "\r\n"]),
)
def test_generated_interchanges_have_consistent_counts_and_control_numbers(
    groups: list[tuple[str, list[list[list[str | None]]]]],
    version: str,
    isa13: int,
    gs06: int,
    first_st: int,
    suffix: str,
) -> None:
    total = sum(len(sets) for _, sets in groups)
    st_numbers = list(range(first_st, first_st + total))
    env = envelope(version, delimiters=Delimiters(segment_suffix=suffix), isa13=isa13, gs06=gs06)
    data = write_interchange(env, groups, st_numbers)
    tokens = tokenize(data)
    sets = check_envelope(tokens)
    assert len(sets) == total
    assert [int(s[0][2]) for s in sets] == st_numbers
    assert [int(g[6]) for g in tokens.find("GS")] == list(range(gs06, gs06 + len(groups)))
    assert int(tokens.segments[0][13]) == isa13
    flat_bodies = [seg for _, group_sets in groups for tx in group_sets for seg in tx[1:]]
    written = [seg for tx in sets for seg in tx[1:-1]]
    assert len(written) == len(flat_bodies)
    for want, got in zip(flat_bodies, written, strict=True):
        trimmed = [e or "" for e in want]
        while trimmed and trimmed[-1] == "":
            trimmed.pop()
        assert got == trimmed
    _, errors = pyx12_read(data)
    assert errors == []
