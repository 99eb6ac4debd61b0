"""TA1, 997 and 999 writing, validated by pyx12's own 997.4010 / 999.5010X231.A1 maps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound.writers import WriterError, write_functional_ack
from parsers.canonical import (
    AckStatus,
    ElementNote,
    FunctionalAck,
    GroupAck,
    InterchangeAck,
    SegmentNote,
    TransactionSetAck,
)

from .support import check_envelope, envelope, pyx12_read, pyx12_validate, safe_text, tokenize, widen_ack_maps

SUPPLY_CHAIN_FIDS = ["PO", "SH", "IN"]
SUPPLY_CHAIN_SETS = ["850", "856", "810"]


@pytest.fixture(scope="module")
def widened_maps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyx12's ack maps with PO/SH/IN and 850/856/810 added to AK101/AK201 (HIPAA-only lists)."""
    return widen_ack_maps(tmp_path_factory.mktemp("pyx12maps"), SUPPLY_CHAIN_FIDS, SUPPLY_CHAIN_SETS)


def _rejected_837_group(version: str | None = None) -> GroupAck:
    return GroupAck(
        functional_id_code="HC",
        group_control_number="17",
        version=version,
        status=AckStatus.REJECTED,
        transaction_sets=[
            TransactionSetAck(
                transaction_set_id="837",
                control_number="0001",
                status=AckStatus.REJECTED,
                error_codes=["5"],
                segments=[
                    SegmentNote(
                        segment_id="NM1",
                        position=8,
                        loop_id="2010",
                        error_code="8",
                        elements=[
                            ElementNote(position=2, component_position=1, reference_number="66", error_code="7",
                                        bad_value="X*Y~Z:Q\n"),
                        ],
                        context=["SITUATIONAL TRIGGER*NM1*8*2010*2"] if version else [],
                    )
                ],
            ),
            TransactionSetAck(transaction_set_id="837", control_number="0002", status=AckStatus.ACCEPTED),
        ],
    )


def test_997_passes_pyx12_validation_and_sanitizes_the_bad_value_copy() -> None:
    ack = FunctionalAck(ack_type="997", groups=[_rejected_837_group()])
    data = write_functional_ack(ack, envelope("004010", isa13=9, gs06=3))
    tokens = tokenize(data)
    check_envelope(tokens)
    assert tokens.find("AK1")[0] == ["AK1", "HC", "17"]
    assert tokens.find("AK3")[0] == ["AK3", "NM1", "8", "2010", "8"]
    assert tokens.find("AK4")[0] == ["AK4", "2:1", "66", "7", "XYZQ"]
    assert tokens.find("AK9")[0] == ["AK9", "R", "2", "2", "1"]
    ok, errors = pyx12_validate(data)
    assert errors == [] and ok


def test_999_passes_pyx12_validation_with_ik3_ctx_ik4() -> None:
    group = _rejected_837_group(version="005010X222A1")
    group.transaction_sets[0].implementation_reference = "005010X222A1"
    group.transaction_sets[0].segments[0].elements[0].repetition_position = 2
    data = write_functional_ack(FunctionalAck(ack_type="999", groups=[group]), envelope("005010"))
    tokens = tokenize(data)
    check_envelope(tokens)
    assert tokens.find("GS")[0][8] == "005010X231A1"
    assert tokens.find("ST")[0] == ["ST", "999", "0001", "005010X231A1"]
    assert tokens.find("AK1")[0] == ["AK1", "HC", "17", "005010X222A1"]
    assert tokens.find("AK2")[0] == ["AK2", "837", "0001", "005010X222A1"]
    assert tokens.ids()[5:9] == ["IK3", "CTX", "IK4", "IK5"]
    assert tokens.find("CTX")[0] == ["CTX", "SITUATIONAL TRIGGER", "NM1", "8", "2010", "2"]
    assert tokens.find("IK4")[0] == ["IK4", "2:1:2", "66", "7", "XYZQ"]
    ok, errors = pyx12_validate(data)
    assert errors == [] and ok


def test_pyx12_check_is_able_to_fail() -> None:
    """The validation the other tests rely on reports a broken 997 (wrong AK901 code)."""
    data = write_functional_ack(FunctionalAck(ack_type="997", groups=[_rejected_837_group()]), envelope())
    broken = data.replace(b"AK9*R*", b"AK9*Q*")
    ok, errors = pyx12_validate(broken)
    assert not ok and errors


def test_supply_chain_997_passes_widened_pyx12_maps(widened_maps: Path) -> None:
    group = GroupAck(
        functional_id_code="PO", group_control_number="1234", status=AckStatus.ACCEPTED,
        transaction_sets=[
            TransactionSetAck(transaction_set_id="850", control_number="0001", status=AckStatus.ACCEPTED)
        ],
    )
    data = write_functional_ack(FunctionalAck(ack_type="997", groups=[group]), envelope())
    ok, errors = pyx12_validate(data, widened_maps)
    assert errors == [] and ok
    ok_plain, _ = pyx12_validate(data)  # pyx12's shipped map only knows HIPAA codes
    assert not ok_plain


def test_ta1_placed_after_isa_before_gs() -> None:
    ta1 = InterchangeAck(control_number="123", interchange_date=dt.date(2024, 1, 2), interchange_time=dt.time(3, 4),
                         status=AckStatus.ACCEPTED, note_code="000")
    ack = FunctionalAck(ack_type="997", groups=[_rejected_837_group()], interchange_acks=[ta1])
    data = write_functional_ack(ack, envelope())
    tokens = tokenize(data)
    assert tokens.ids()[:3] == ["ISA", "TA1", "GS"]
    assert tokens.find("TA1")[0] == ["TA1", "000000123", "240102", "0304", "A", "000"]
    check_envelope(tokens)
    ok, errors = pyx12_validate(data)
    assert errors == [] and ok


def test_ta1_only_interchange_has_no_groups() -> None:
    ta1 = InterchangeAck(control_number="987654321", interchange_date=dt.date(2024, 5, 6),
                         interchange_time=dt.time(7, 8), status=AckStatus.REJECTED, note_code="022")
    for version in ("004010", "005010"):
        data = write_functional_ack(FunctionalAck(ack_type="TA1", interchange_acks=[ta1]), envelope(version))
        tokens = tokenize(data)
        assert tokens.ids() == ["ISA", "TA1", "IEA"]
        assert tokens.find("IEA")[0][1] == "0"
        check_envelope(tokens)
        ids, errors = pyx12_read(data)
        assert ids == ["ISA", "TA1", "IEA"] and errors == []


@pytest.mark.parametrize(
    ("ack", "version", "field"),
    [
        (FunctionalAck(ack_type="999", groups=[_rejected_837_group()]), "005010", "AK103"),
        (FunctionalAck(ack_type="999", groups=[_rejected_837_group("005010X222A1")]), "004010", "version"),
        (FunctionalAck(ack_type="TA1", groups=[_rejected_837_group()]), "004010", "ack_type"),
        (FunctionalAck(ack_type="997"), "004010", "groups"),
        (FunctionalAck(ack_type="TA1", interchange_acks=[InterchangeAck(control_number="x1", status="A",
                                                                        note_code="000")]), "004010", "TA101"),
    ],
)
def test_acks_that_cannot_be_written_say_why(ack: FunctionalAck, version: str, field: str) -> None:
    with pytest.raises(WriterError) as info:
        write_functional_ack(ack, envelope(version))
    assert info.value.field == field


# --------------------------------------------------------------------------- generated acks

_status = st.sampled_from([AckStatus.ACCEPTED, AckStatus.ACCEPTED_WITH_ERRORS, AckStatus.REJECTED])
_element_notes = st.builds(
    ElementNote,
    position=st.integers(1, 99),
    component_position=st.one_of(st.none(), st.integers(1, 99)),
    repetition_position=st.one_of(st.none(), st.integers(1, 99)),
    reference_number=st.one_of(st.none(), st.integers(1, 9999).map(str)),
    error_code=st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
    bad_value=st.one_of(st.none(), st.text(min_size=1, max_size=120).filter(lambda s: s.isascii())),
)
_segment_notes = st.builds(
    SegmentNote,
    segment_id=st.sampled_from(["NM1", "CLM", "REF", "DTP", "SV1"]),
    position=st.integers(2, 999_999),
    loop_id=st.one_of(st.none(), st.sampled_from(["2010", "2300", "2400"])),
    error_code=st.sampled_from(["1", "2", "3", "8"]),
    elements=st.lists(_element_notes, max_size=3),
    context=st.lists(
        st.builds(lambda seg, pos: f"SITUATIONAL TRIGGER*{seg}*{pos}", st.sampled_from(["NM1", "CLM"]),
                  st.integers(2, 999)),
        max_size=2,
    ),
)
_set_acks = st.builds(
    TransactionSetAck,
    transaction_set_id=st.sampled_from(["837", "835", "270"]),
    control_number=st.integers(1, 99999).map(lambda n: f"{n:04d}"),
    implementation_reference=st.just("005010X222A1"),
    status=_status,
    error_codes=st.lists(st.sampled_from(["1", "2", "3", "5"]), max_size=5),
    segments=st.lists(_segment_notes, max_size=3),
)
_groups = st.builds(
    GroupAck,
    functional_id_code=st.sampled_from(["HC", "HP", "HS"]),
    group_control_number=st.integers(1, 999_999_999).map(str),
    version=st.just("005010X222A1"),
    status=st.sampled_from([AckStatus.ACCEPTED, AckStatus.PARTIALLY_ACCEPTED, AckStatus.REJECTED]),
    error_codes=st.lists(st.sampled_from(["1", "2", "5"]), max_size=5),
    transaction_sets=st.lists(_set_acks, max_size=4),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=st.lists(_groups, min_size=1, max_size=3), ack_type=st.sampled_from(["997", "999"]),
       isa13=st.integers(1, 999_999_999))
def test_generated_acks_pass_pyx12_maps(groups: list[GroupAck], ack_type: str, isa13: int) -> None:
    if ack_type == "997":  # 4010 has neither a repetition position nor CTX
        for g in groups:
            for tx in g.transaction_sets:
                for note in tx.segments:
                    for el in note.elements:
                        el.repetition_position = None
    ack = FunctionalAck(ack_type=ack_type, groups=groups)
    version = "005010" if ack_type == "999" else "004010"
    data = write_functional_ack(ack, envelope(version, isa13=isa13))
    tokens = tokenize(data)
    sets = check_envelope(tokens)
    assert len(sets) == len(groups)
    for tx, group in zip(sets, groups, strict=True):
        assert tx[1][:3] == ["AK1", group.functional_id_code, group.group_control_number]
        ak9 = tx[-2]
        listed = len(group.transaction_sets)
        accepted = sum(1 for t in group.transaction_sets if t.status in ("A", "E"))
        assert ak9[:5] == ["AK9", group.status.value, str(listed), str(listed), str(accepted)]
        assert len([s for s in tx if s[0] == "AK2"]) == listed
        notes = sum(len(t.segments) for t in group.transaction_sets)
        assert len([s for s in tx if s[0] in ("AK3", "IK3")]) == notes
    ok, errors = pyx12_validate(data)
    assert errors == [] and ok


@given(value=safe_text(max_size=30))
def test_safe_bad_values_are_copied_unchanged(value: str) -> None:
    note = SegmentNote(segment_id="N1", position=3, error_code="8",
                       elements=[ElementNote(position=2, error_code="7", bad_value=value)])
    group = GroupAck(functional_id_code="PO", group_control_number="1", status="R", transaction_sets=[
        TransactionSetAck(transaction_set_id="850", control_number="0001", status="R", segments=[note])])
    tokens = tokenize(write_functional_ack(FunctionalAck(ack_type="997", groups=[group]), envelope()))
    assert tokens.find("AK4")[0][4] == value


@pytest.mark.parametrize(("value", "copied"), [("0 ", "0"), ("AB  C  ", "AB  C"), ("   ", None)])
def test_bad_values_lose_trailing_spaces_and_blank_ones_are_left_out(value: str, copied: str | None) -> None:
    note = SegmentNote(segment_id="N1", position=3, error_code="8",
                       elements=[ElementNote(position=2, error_code="7", bad_value=value)])
    group = GroupAck(functional_id_code="PO", group_control_number="1", status="R", transaction_sets=[
        TransactionSetAck(transaction_set_id="850", control_number="0001", status="R", segments=[note])])
    ak4 = tokenize(write_functional_ack(FunctionalAck(ack_type="997", groups=[group]), envelope())).find("AK4")[0]
    assert (ak4[4] if len(ak4) > 4 else None) == copied
