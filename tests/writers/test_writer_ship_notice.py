"""856 writing: HL hierarchy (SOPI and SOTPI), SSCC-18, shipment/order/pack/item segments, CTT."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.writers import (
    WriterError,
    is_valid_sscc,
    make_sscc,
    sscc_check_digit,
    write_ship_notice,
    write_ship_notices,
)
from parsers.canonical import (
    Address,
    Carrier,
    OrderLevel,
    PackLevel,
    Party,
    ProductId,
    Reference,
    ShipNotice,
    ShippedItem,
)

from .support import check_envelope, envelope, pyx12_read, safe_text, tokenize

_PARENT_LEVEL = {"O": "S", "T": "O", "P": ("O", "T"), "I": ("O", "P")}


def test_sscc_check_digit_matches_gs1_example() -> None:
    # GS1 General Specifications example SSCC: (00) 1 0614141 234567890 8
    assert sscc_check_digit("10614141234567890") == 8
    assert make_sscc(1, "0614141", 234567890) == "106141412345678908"
    assert is_valid_sscc("106141412345678908")
    assert not is_valid_sscc("106141412345678907")
    assert not is_valid_sscc("10614141234567890")
    with pytest.raises(ValueError, match="17 digits"):
        sscc_check_digit("1234")
    with pytest.raises(ValueError, match="serial"):
        make_sscc(0, "0614141", 10**10)


@given(ext=st.integers(0, 9), prefix=st.text("0123456789", min_size=7, max_size=10),
       serial=st.integers(0, 999_999))
def test_make_sscc_always_valid(ext: int, prefix: str, serial: int) -> None:
    sscc = make_sscc(ext, prefix, serial)
    assert len(sscc) == 18 and is_valid_sscc(sscc)
    assert sscc.startswith(f"{ext}{prefix}")
    wrong = sscc[:17] + str((int(sscc[17]) + 1) % 10)
    assert not is_valid_sscc(wrong)


def _item(n: int, qty: str = "6") -> ShippedItem:
    return ShippedItem(line_number=str(n), product_ids=[ProductId(qualifier="UP", value=f"0000000000{n:02d}")],
                       quantity_shipped=Decimal(qty), unit_of_measure="EA")


def _notice(orders: list[OrderLevel]) -> ShipNotice:
    return ShipNotice(
        shipment_id="SHIP-1",
        notice_date=dt.date(2024, 3, 1),
        notice_time=dt.time(8, 30),
        ship_date=dt.date(2024, 3, 1),
        estimated_delivery_date=dt.date(2024, 3, 4),
        carrier=Carrier(id="ABCD", transport_method="M"),
        packaging_code="CTN25",
        lading_quantity=Decimal(3),
        gross_weight=Decimal("41.25"),
        weight_unit="LB",
        references=[Reference(qualifier="BM", value="BOL-77")],
        tracking_numbers=["1Z999"],
        parties=[
            Party(role="ST", name="DC 5", id_qualifier="UL", id="0012345000010",
                  address=Address(lines=["1 Dock Rd", "Door 4", "Bay 2"], city="Reno", state="NV",
                                  postal_code="89501", country="US")),
            Party(role="SF", name="3PL West"),
        ],
        orders=orders,
    )


def test_sopi_hierarchy_segments_in_place() -> None:
    sscc = make_sscc(0, "0614141", 1)
    order = OrderLevel(po_number="PO-9", po_date=dt.date(2024, 2, 20), invoice_number="INV-1",
                       packs=[PackLevel(sscc=sscc, weight=Decimal("12.5"), weight_unit="LB",
                                        items=[_item(1), _item(2)])])
    data = write_ship_notice(_notice([order]), envelope("004010VICS"), 12)
    tokens = tokenize(data)
    (tx,) = check_envelope(tokens)
    assert [s[0] for s in tx] == [
        "ST", "BSN", "HL", "TD1", "TD5", "REF", "REF", "DTM", "DTM", "N1", "N3", "N3", "N4", "N1",
        "HL", "PRF", "REF", "HL", "TD1", "MAN", "HL", "LIN", "SN1", "HL", "LIN", "SN1", "CTT", "SE",
    ]
    assert tokens.find("BSN")[0] == ["BSN", "00", "SHIP-1", "20240301", "0830", "0001"]
    assert tokens.find("TD1")[0] == ["TD1", "CTN25", "3", "", "", "", "G", "41.25", "LB"]
    assert tokens.find("TD5")[0] == ["TD5", "", "2", "ABCD", "M"]
    assert tokens.find("REF")[:3] == [["REF", "BM", "BOL-77"], ["REF", "2I", "1Z999"], ["REF", "IV", "INV-1"]]
    assert tokens.find("DTM") == [["DTM", "011", "20240301"], ["DTM", "017", "20240304"]]
    assert tokens.find("N3")[:2] == [["N3", "1 Dock Rd", "Door 4"], ["N3", "Bay 2"]]
    assert tokens.find("PRF")[0] == ["PRF", "PO-9", "", "", "20240220"]
    assert tokens.find("MAN")[0] == ["MAN", "GM", sscc]
    assert tokens.find("HL") == [
        ["HL", "1", "", "S", "1"], ["HL", "2", "1", "O", "1"], ["HL", "3", "2", "P", "1"],
        ["HL", "4", "3", "I", "0"], ["HL", "5", "3", "I", "0"],
    ]
    assert tokens.find("CTT")[0] == ["CTT", "5"]
    assert tokens.find("GS")[0][1] == "SH" and tokens.find("GS")[0][8] == "004010VICS"
    ids, errors = pyx12_read(data)
    assert errors == [] and ids.count("HL") == 5


def test_sotpi_tare_holds_packs() -> None:
    carton = PackLevel(sscc=make_sscc(0, "0614141", 2), items=[_item(1)])
    pallet = PackLevel(hl_code="T", sscc=make_sscc(1, "0614141", 3), packaging_code="PLT94", packs=[carton])
    data = write_ship_notice(_notice([OrderLevel(po_number="PO-1", packs=[pallet])]), envelope("005010"),
                             structure="SOTPI")
    tokens = tokenize(data)
    check_envelope(tokens)
    assert tokens.find("BSN")[0][5] == "0002"
    assert [hl[3] for hl in tokens.find("HL")] == ["S", "O", "T", "P", "I"]
    assert [hl[2] for hl in tokens.find("HL")] == ["", "1", "2", "3", "4"]
    assert tokens.find("TD1")[1] == ["TD1", "PLT94", "1"]
    assert tokens.find("MAN") == [["MAN", "GM", pallet.sscc], ["MAN", "GM", carton.sscc]]
    _, errors = pyx12_read(data)
    assert errors == []


def test_structure_parameter_overrides_and_defaults() -> None:
    notice = _notice([OrderLevel(po_number="P", items=[_item(1)])])
    notice.structure_code = "0002"
    assert tokenize(write_ship_notice(notice, envelope())).find("BSN")[0][5] == "0002"
    assert tokenize(write_ship_notice(notice, envelope(), structure="SOPI")).find("BSN")[0][5] == "0001"


@pytest.mark.parametrize(
    ("order", "structure", "field", "match"),
    [
        (OrderLevel(po_number="P", packs=[PackLevel(sscc="106141412345678907")]), "SOPI", "MAN02", "check digit"),
        (OrderLevel(po_number="P", packs=[PackLevel(sscc="12345")]), "SOPI", "MAN02", "18 digits"),
        (OrderLevel(po_number="P", packs=[PackLevel(hl_code="T")]), "SOPI", "HL03", "SOTPI"),
        (OrderLevel(po_number="P", packs=[PackLevel(packs=[PackLevel()])]), "SOTPI", "HL03", "tare"),
        (OrderLevel(items=[ShippedItem(quantity_shipped=Decimal(1), unit_of_measure="EA")]), "SOPI", "LIN02",
         "product id"),
        (OrderLevel(items=[ShippedItem(product_ids=[ProductId(qualifier="UP", value="1")])]), "SOPI", "SN102",
         "quantity"),
        (OrderLevel(release_number="R1"), "SOPI", "PRF01", "PO number"),
    ],
)
def test_bad_ship_notices_are_refused_with_the_element(
    order: OrderLevel, structure: str, field: str, match: str
) -> None:
    with pytest.raises(WriterError, match=match) as info:
        write_ship_notice(_notice([order]), envelope(), structure=structure)  # type: ignore[arg-type]
    assert info.value.field == field


# --------------------------------------------------------------------------- generated hierarchies

_qty = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999"), places=3, allow_nan=False)
_items = st.builds(
    ShippedItem,
    line_number=st.one_of(st.none(), st.integers(1, 999).map(str)),
    product_ids=st.lists(st.builds(ProductId, qualifier=st.sampled_from(["UP", "VN", "BP", "EN"]),
                                   value=safe_text(max_size=14)), min_size=1, max_size=3),
    quantity_shipped=_qty,
    unit_of_measure=st.sampled_from(["EA", "CA", "LB"]),
    description=st.one_of(st.none(), safe_text(max_size=40)),
    pack=st.one_of(st.none(), st.integers(1, 48).map(Decimal)),
)
_ssccs = st.builds(make_sscc, st.integers(0, 9), st.just("0614141"), st.integers(0, 999_999_999))
_cartons = st.builds(PackLevel, hl_code=st.just("P"), sscc=st.one_of(st.none(), _ssccs),
                     items=st.lists(_items, min_size=1, max_size=3))


def _orders(structure: str) -> st.SearchStrategy[OrderLevel]:
    if structure == "SOTPI":
        packs = st.one_of(
            st.builds(PackLevel, hl_code=st.just("T"), sscc=_ssccs, packs=st.lists(_cartons, min_size=1, max_size=3)),
            _cartons,
        )
    else:
        packs = _cartons
    return st.builds(
        OrderLevel,
        po_number=safe_text(max_size=22),
        po_date=st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))),
        packs=st.lists(packs, max_size=3),
        items=st.lists(_items, max_size=2),
    )


def _count_levels(notice: ShipNotice) -> dict[str, int]:
    counts = {"S": 1, "O": 0, "T": 0, "P": 0, "I": 0}

    def pack(p: PackLevel) -> None:
        counts[p.hl_code] += 1
        counts["I"] += len(p.items)
        for child in p.packs:
            pack(child)

    for order in notice.orders:
        counts["O"] += 1
        counts["I"] += len(order.items)
        for p in order.packs:
            pack(p)
    return counts


@st.composite
def _notices(draw: st.DrawFn) -> tuple[ShipNotice, str]:
    structure = draw(st.sampled_from(["SOPI", "SOTPI"]))
    notice = ShipNotice(
        shipment_id=draw(safe_text(max_size=30)),
        ship_date=draw(st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))),
        orders=draw(st.lists(_orders(structure), min_size=1, max_size=3)),
    )
    return notice, structure


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(_notices(), min_size=1, max_size=3), version=st.sampled_from(["004010", "004010VICS", "005010"]))
def test_generated_ship_notices_have_correct_hl_tree_and_counts(
    batch: list[tuple[ShipNotice, str]], version: str
) -> None:
    structures = {s for _, s in batch}
    structure = "SOTPI" if "SOTPI" in structures else "SOPI"
    notices = [n for n, _ in batch]
    data = write_ship_notices(notices, envelope(version), list(range(1, len(notices) + 1)), structure=structure)
    tokens = tokenize(data)
    sets = check_envelope(tokens)
    assert len(sets) == len(notices)
    for tx, notice in zip(sets, notices, strict=True):
        hls = [s for s in tx if s[0] == "HL"]
        assert [int(h[1]) for h in hls] == list(range(1, len(hls) + 1))
        level_of = {h[1]: h[3] for h in hls}
        for h in hls[1:]:
            assert int(h[2]) < int(h[1])
            assert level_of[h[2]] in _PARENT_LEVEL[h[3]]
        children = {h[2] for h in hls}
        for h in hls:
            assert h[4] == ("1" if h[1] in children else "0")
        counts = _count_levels(notice)
        for code, expected in counts.items():
            assert sum(1 for h in hls if h[3] == code) == expected
        ctt = next(s for s in tx if s[0] == "CTT")
        assert ctt[1] == str(len(hls))
        assert len([s for s in tx if s[0] == "LIN"]) == counts["I"]
        assert len([s for s in tx if s[0] == "PRF"]) == counts["O"]
        mans = [s[2] for s in tx if s[0] == "MAN"]
        assert all(is_valid_sscc(m) for m in mans)
        sn1 = [Decimal(s[2]) for s in tx if s[0] == "SN1"]
        expected_qty: list[Decimal] = []

        def walk(p: PackLevel, out: list[Decimal]) -> None:
            for child in p.packs:
                walk(child, out)
            out.extend(i.quantity_shipped or Decimal(0) for i in p.items)

        for order in notice.orders:
            for p in order.packs:
                walk(p, expected_qty)
            expected_qty.extend(i.quantity_shipped or Decimal(0) for i in order.items)
        assert sn1 == expected_qty
    ids, errors = pyx12_read(data)
    assert errors == []
    assert ids.count("HL") == sum(len([s for s in tx if s[0] == "HL"]) for tx in sets)


def test_a_ship_date_also_listed_in_dates_is_written_once() -> None:
    """A notice read from X12 carries DTM*011 both as ship_date and in dates: the 856 must not repeat it."""
    import datetime as dt

    from parsers.canonical import DateRef, ShipNotice
    from parsers.x12 import TransactionSet, read_transaction_set, read_x12

    day = dt.date(2026, 11, 28)
    notice = ShipNotice(shipment_id="SHP1", notice_date=day, ship_date=day,
                        dates=[DateRef(qualifier="011", date=day), DateRef(qualifier="002", date=day)],
                        orders=[{"po_number": "PO1", "items": [{"quantity_shipped": 1, "unit_of_measure": "EA",
                                                                  "product_ids": [{"qualifier": "UP",
                                                                                   "value": "012345678905"}]}]}])
    data = write_ship_notice(notice, envelope(), structure="SOPI")
    ts = next(e for e in read_x12(data) if isinstance(e, TransactionSet))
    dtms = [seg for seg in ts.segments if seg[0] == "DTM"]
    assert [seg[1] for seg in dtms] == ["011", "002"]
    assert read_transaction_set(ts).status != "rejected"
