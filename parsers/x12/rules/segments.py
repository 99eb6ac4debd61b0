# ruff: noqa: E501  (tables read best one segment per row, as in the standard)
"""Segment dictionaries: the elements of every segment the 850, 856, 810, 997 and 999 readers validate.

Rules:
- One entry per segment id: its elements in order (element 1 first) and its syntax notes.
- An element is ``E(reference number, requirement, type, min length, max length, codes)``:
  requirement ``M`` mandatory, ``O`` optional, ``C``/``X`` conditional (a syntax note decides);
  types ``AN`` string, ``ID`` code, ``N0``/``N2`` implied-decimal numbers, ``R`` decimal, ``DT``
  date, ``TM`` time, ``B`` binary. ``codes`` is a closed list (error) or ``open_codes`` an open
  one (warning) from ``codes.py``.
- A composite is ``Composite(reference, requirement, components, repeat)``; ``repeat`` > 1 means the
  element may repeat with the interchange's repetition separator (5010).
- Syntax notes are written as in the standard: ``P0607`` paired, ``R0203`` at least one,
  ``C0302`` if 03 then 02, ``E0102`` at most one, ``L010203`` if 01 then at least one of 02, 03.
- ``SEGMENTS_4010`` covers 003xxx/004xxx versions (incl. VICS/UCS, which are subsets);
  ``SEGMENTS_5010`` overrides the segments that changed in 005010.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers.x12.rules import codes as c


@dataclass(frozen=True, slots=True)
class E:
    """A simple data element in a segment: reference number, requirement, type, lengths, code list."""

    ref: str
    req: str
    type: str
    min: int
    max: int
    codes: frozenset[str] | None = None
    open_codes: bool = False


@dataclass(frozen=True, slots=True)
class Composite:
    """A composite data element (components split by ISA16), optionally repeating (5010)."""

    ref: str
    req: str
    components: tuple[E, ...]
    repeat: int = 1


Element = E | Composite


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """The elements and syntax notes of one segment."""

    elements: tuple[Element, ...]
    notes: tuple[str, ...] = ()


def S(*elements: Element, notes: str = "") -> SegmentSpec:
    """A segment spec from its elements and a space-separated list of syntax notes."""
    return SegmentSpec(tuple(elements), tuple(notes.split()))


def _product_pairs(first: int, count: int = 10, *, mandatory_first: bool = False) -> tuple[E, ...]:
    """``count`` (235 qualifier, 234 product id) element pairs starting at element ``first``."""
    out: list[E] = []
    for i in range(count):
        req = "M" if mandatory_first and i == 0 else "C"
        out.append(E("235", req, "ID", 2, 2, c.PRODUCT_QUALIFIER, open_codes=True))
        out.append(E("234", req, "AN", 1, 48))
    return tuple(out)


def _pair_notes(first: int, count: int = 10) -> str:
    """``P0607 P0809 ...`` for ``count`` qualifier/id pairs starting at element ``first``."""
    return " ".join(f"P{first + 2 * i:02d}{first + 2 * i + 1:02d}" for i in range(count))


_UOM = E("355", "C", "ID", 2, 2, c.UOM)
_C001 = Composite("C001", "C", (E("355", "M", "ID", 2, 2, c.UOM), E("1018", "O", "R", 1, 15), E("649", "O", "R", 1, 10),
                                E("355", "O", "ID", 2, 2, c.UOM), E("1018", "O", "R", 1, 15), E("649", "O", "R", 1, 10),
                                E("355", "O", "ID", 2, 2, c.UOM), E("1018", "O", "R", 1, 15), E("649", "O", "R", 1, 10),
                                E("355", "O", "ID", 2, 2, c.UOM), E("1018", "O", "R", 1, 15), E("649", "O", "R", 1, 10),
                                E("355", "O", "ID", 2, 2, c.UOM), E("1018", "O", "R", 1, 15), E("649", "O", "R", 1, 10)))
_C040 = Composite("C040", "O", (E("128", "M", "ID", 2, 3), E("127", "M", "AN", 1, 30), E("128", "C", "ID", 2, 3),
                                E("127", "C", "AN", 1, 30), E("128", "C", "ID", 2, 3), E("127", "C", "AN", 1, 30)))

SEGMENTS_4010: dict[str, SegmentSpec] = {
    # ---------------------------------------------------------------- control
    "ST": S(E("143", "M", "ID", 3, 3), E("329", "M", "AN", 4, 9)),
    "SE": S(E("96", "M", "N0", 1, 10), E("329", "M", "AN", 4, 9)),
    # ---------------------------------------------------------------- shared
    "CUR": S(E("98", "M", "ID", 2, 3), E("100", "M", "ID", 3, 3), E("280", "O", "R", 4, 10), E("98", "O", "ID", 2, 3),
             E("100", "O", "ID", 3, 3), E("669", "O", "ID", 3, 3), E("374", "C", "ID", 3, 3), E("373", "C", "DT", 8, 8),
             E("337", "C", "TM", 4, 8), E("374", "C", "ID", 3, 3), E("373", "C", "DT", 8, 8), E("337", "C", "TM", 4, 8),
             E("374", "C", "ID", 3, 3), E("373", "C", "DT", 8, 8), E("337", "C", "TM", 4, 8), E("374", "C", "ID", 3, 3),
             E("373", "C", "DT", 8, 8), E("337", "C", "TM", 4, 8), E("374", "C", "ID", 3, 3), E("373", "C", "DT", 8, 8),
             E("337", "C", "TM", 4, 8), notes="C0807 C0907 L101112 C1110 C1210 L131415 C1413 C1513 L161718 "
             "C1716 C1816 L192021 C2019 C2119"),
    "REF": S(E("128", "M", "ID", 2, 3), E("127", "C", "AN", 1, 30), E("352", "C", "AN", 1, 80), _C040,
             notes="R0203"),
    "PER": S(E("366", "M", "ID", 2, 2), E("93", "O", "AN", 1, 60), E("365", "C", "ID", 2, 2), E("364", "C", "AN", 1, 80),
             E("365", "C", "ID", 2, 2), E("364", "C", "AN", 1, 80), E("365", "C", "ID", 2, 2), E("364", "C", "AN", 1, 80),
             E("443", "O", "AN", 1, 20), notes="P0304 P0506 P0708"),
    "FOB": S(E("146", "M", "ID", 2, 2), E("309", "C", "ID", 1, 2), E("352", "O", "AN", 1, 80), E("334", "C", "ID", 2, 2),
             E("335", "C", "ID", 3, 3), E("309", "C", "ID", 1, 2), E("352", "O", "AN", 1, 80), E("54", "C", "ID", 2, 2),
             E("352", "O", "AN", 1, 80), notes="C0302 C0405 C0706 C0809"),
    "ITD": S(E("336", "O", "ID", 2, 2), E("333", "O", "ID", 1, 2), E("338", "O", "R", 1, 6), E("370", "O", "DT", 8, 8),
             E("351", "O", "N0", 1, 3), E("446", "O", "DT", 8, 8), E("386", "O", "N0", 1, 3), E("362", "O", "N2", 1, 10),
             E("388", "O", "DT", 8, 8), E("389", "O", "N2", 1, 10), E("342", "O", "R", 1, 5), E("352", "O", "AN", 1, 80),
             E("765", "O", "N0", 1, 2), E("107", "O", "ID", 1, 1), E("954", "O", "R", 1, 10)),
    "DTM": S(E("374", "M", "ID", 3, 3, c.DATE_QUALIFIER, open_codes=True), E("373", "C", "DT", 8, 8),
             E("337", "C", "TM", 4, 8), E("623", "O", "ID", 2, 2), E("1250", "C", "ID", 2, 3), E("1251", "C", "AN", 1, 35),
             notes="R020305 C0403 P0506"),
    "TD5": S(E("133", "O", "ID", 1, 2), E("66", "C", "ID", 1, 2), E("67", "C", "AN", 2, 80), E("91", "C", "ID", 1, 2),
             E("387", "C", "AN", 1, 35), E("368", "C", "ID", 2, 2), E("309", "O", "ID", 1, 2), E("310", "C", "AN", 1, 30),
             E("731", "C", "ID", 2, 2), E("732", "O", "ID", 1, 2), E("733", "O", "AN", 1, 4), E("284", "C", "ID", 2, 2),
             E("284", "O", "ID", 2, 2), E("284", "O", "ID", 2, 2), E("26", "O", "ID", 2, 3),
             notes="R0204050612 C0203 C0708"),
    "TD1": S(E("103", "O", "AN", 3, 5), E("80", "C", "N0", 1, 7), E("23", "O", "ID", 1, 1), E("22", "C", "AN", 1, 30),
             E("79", "O", "AN", 1, 50), E("187", "O", "ID", 1, 2), E("81", "C", "R", 1, 10), _UOM,
             E("183", "C", "R", 1, 8), _UOM, notes="C0102 C0304 C0607 P0708 P0910"),
    "TD3": S(E("40", "C", "ID", 2, 2), E("206", "C", "AN", 1, 4), E("207", "C", "AN", 1, 10), E("187", "O", "ID", 1, 2),
             E("81", "C", "R", 1, 10), _UOM, E("102", "O", "ID", 1, 1), E("407", "O", "ID", 1, 2),
             E("225", "O", "AN", 2, 15), E("24", "C", "ID", 4, 4), notes="E0110 C0203 C0405 P0506"),
    "N1": S(E("98", "M", "ID", 2, 3, c.ENTITY, open_codes=True), E("93", "C", "AN", 1, 60), E("66", "C", "ID", 1, 2),
            E("67", "C", "AN", 2, 80), E("706", "O", "ID", 2, 2), E("98", "O", "ID", 2, 3), notes="R0203 P0304"),
    "N2": S(E("93", "M", "AN", 1, 60), E("93", "O", "AN", 1, 60)),
    "N3": S(E("166", "M", "AN", 1, 55), E("166", "O", "AN", 1, 55)),
    "N4": S(E("19", "O", "AN", 2, 30), E("156", "O", "ID", 2, 2), E("116", "O", "ID", 3, 15), E("26", "O", "ID", 2, 3),
            E("309", "C", "ID", 1, 2), E("310", "C", "AN", 1, 30), notes="C0605"),
    "N9": S(E("128", "M", "ID", 2, 3), E("127", "C", "AN", 1, 30), E("369", "C", "AN", 1, 45), E("373", "O", "DT", 8, 8),
            E("337", "C", "TM", 4, 8), E("623", "O", "ID", 2, 2), _C040, notes="R0203 C0605"),
    "MSG": S(E("933", "M", "AN", 1, 264), E("934", "C", "ID", 2, 2), E("1470", "O", "N0", 1, 9), notes="C0302"),
    "NTE": S(E("363", "O", "ID", 3, 3), E("352", "M", "AN", 1, 80)),
    "PID": S(E("349", "M", "ID", 1, 1, c.DESCRIPTION_TYPE), E("750", "O", "ID", 2, 3), E("559", "C", "ID", 2, 2),
             E("751", "C", "AN", 1, 12), E("352", "C", "AN", 1, 80), E("752", "O", "ID", 2, 2), E("822", "O", "AN", 1, 15),
             E("1073", "O", "ID", 1, 1), E("819", "O", "ID", 2, 3), notes="C0403 R0405 C0703 C0804 C0905"),
    "PO4": S(E("356", "O", "N0", 1, 6), E("357", "C", "R", 1, 8), _UOM, E("103", "C", "AN", 3, 5),
             E("187", "O", "ID", 1, 2), E("384", "C", "R", 1, 9), _UOM, E("385", "C", "R", 1, 9), _UOM,
             E("82", "C", "R", 1, 8), E("189", "C", "R", 1, 8), E("65", "C", "R", 1, 8), _UOM,
             E("810", "O", "N0", 1, 6), E("752", "O", "ID", 2, 2), E("350", "O", "AN", 1, 20), E("350", "C", "AN", 1, 20),
             E("1470", "O", "N0", 1, 9),
             notes="P0203 C0506 P0607 P0809 C1013 C1113 C1213 L13101112 C1716 C1804"),
    "SAC": S(E("248", "M", "ID", 1, 1, c.ALLOWANCE_CHARGE), E("1300", "C", "ID", 4, 4), E("559", "C", "ID", 2, 2),
             E("1301", "C", "AN", 1, 10), E("610", "O", "N2", 1, 15), E("378", "C", "ID", 1, 1), E("332", "O", "R", 1, 6),
             E("118", "C", "R", 1, 9), _UOM, E("380", "C", "R", 1, 15), E("380", "O", "R", 1, 15),
             E("331", "O", "ID", 2, 2), E("127", "C", "AN", 1, 30), E("770", "O", "AN", 1, 20), E("352", "C", "AN", 1, 80),
             E("819", "O", "ID", 2, 3), notes="R0203 P0304 P0607 P0910 C1110 C1413 C1615"),
    "TXI": S(E("963", "M", "ID", 2, 2), E("782", "C", "R", 1, 18), E("954", "C", "R", 1, 10), E("955", "C", "ID", 2, 2),
             E("956", "C", "AN", 1, 30), E("441", "C", "ID", 1, 1), E("1325", "O", "ID", 1, 1), E("350", "O", "AN", 1, 20),
             E("828", "O", "R", 1, 9), E("325", "O", "AN", 1, 30), notes="R020306 P0405 C0804"),
    "TAX": S(E("325", "C", "AN", 1, 20), E("309", "C", "ID", 1, 2), E("310", "C", "AN", 1, 30), E("309", "C", "ID", 1, 2),
             E("310", "C", "AN", 1, 30), E("309", "C", "ID", 1, 2), E("310", "C", "AN", 1, 30), E("309", "C", "ID", 1, 2),
             E("310", "C", "AN", 1, 30), E("309", "C", "ID", 1, 2), E("310", "C", "AN", 1, 30), E("441", "O", "ID", 1, 1),
             E("1179", "O", "ID", 1, 1), notes="R0103 P0203 P0405 P0607 P0809 P1011"),
    "MEA": S(E("737", "O", "ID", 2, 2), E("738", "C", "ID", 1, 3), E("739", "C", "R", 1, 20), _C001,
             E("740", "C", "R", 1, 20), E("741", "C", "R", 1, 20), E("935", "O", "ID", 2, 2), E("936", "C", "R", 1, 10),
             E("752", "O", "ID", 2, 2), E("1373", "O", "ID", 1, 1), notes="R03050608 C0504 C0604 L07030506 E0803"),
    "AMT": S(E("522", "M", "ID", 1, 3), E("782", "M", "R", 1, 18), E("478", "O", "ID", 1, 1)),
    "CTT": S(E("354", "M", "N0", 1, 6), E("347", "O", "R", 1, 10), E("81", "C", "R", 1, 10), _UOM,
             E("183", "C", "R", 1, 8), _UOM, E("352", "O", "AN", 1, 80), notes="P0304 P0506"),
    "DTM2": S(),  # placeholder never used (keeps the table shape obvious)
    # ---------------------------------------------------------------- 850
    "BEG": S(E("353", "M", "ID", 2, 2, c.PURPOSE), E("92", "M", "ID", 2, 2, c.PO_TYPE), E("324", "M", "AN", 1, 22),
             E("328", "O", "AN", 1, 30), E("373", "M", "DT", 8, 8), E("367", "O", "AN", 1, 30), E("587", "O", "ID", 2, 2),
             E("1019", "O", "ID", 3, 3), E("1166", "O", "ID", 2, 2), E("1232", "O", "ID", 2, 2), E("786", "O", "ID", 2, 2),
             E("640", "O", "ID", 2, 2)),
    "PO1": S(E("350", "O", "AN", 1, 20), E("330", "C", "R", 1, 15), E("355", "O", "ID", 2, 2, c.UOM),
             E("212", "C", "R", 1, 17), E("639", "O", "ID", 2, 2), *_product_pairs(6),
             notes="C0302 C0504 " + _pair_notes(6)),
    "CTP": S(E("687", "O", "ID", 2, 2), E("236", "C", "ID", 3, 3), E("212", "C", "R", 1, 17), E("380", "C", "R", 1, 15),
             _C001, E("648", "C", "ID", 3, 3), E("649", "C", "R", 1, 10), E("782", "O", "R", 1, 18),
             E("639", "O", "ID", 2, 2), E("499", "O", "AN", 1, 10), E("289", "O", "N0", 1, 2),
             notes="C0405 C0607 C0902 C1002 C1103"),
    "SCH": S(E("380", "M", "R", 1, 15), E("355", "M", "ID", 2, 2, c.UOM), E("98", "C", "ID", 2, 3),
             E("93", "C", "AN", 1, 60), E("374", "M", "ID", 3, 3), E("373", "M", "DT", 8, 8), E("337", "O", "TM", 4, 8),
             E("374", "O", "ID", 3, 3), E("373", "C", "DT", 8, 8), E("337", "O", "TM", 4, 8), E("326", "O", "AN", 1, 30),
             E("350", "O", "AN", 1, 20), notes="C0304 L08091011? C0908 C1008"),
    "CSH": S(E("563", "O", "ID", 1, 2), E("306", "C", "ID", 1, 2), E("610", "C", "N2", 1, 15), E("508", "O", "AN", 1, 35),
             E("596", "C", "AN", 1, 9), E("563", "O", "ID", 1, 2), E("338", "C", "R", 1, 6), E("954", "O", "R", 1, 10),
             E("1004", "C", "ID", 1, 2), E("352", "O", "AN", 1, 80), notes="P0809 C0402"),
    "PKG": S(E("349", "C", "ID", 1, 1, c.DESCRIPTION_TYPE), E("753", "C", "ID", 1, 3), E("559", "C", "ID", 2, 2),
             E("754", "C", "AN", 1, 7), E("352", "C", "AN", 1, 80), E("400", "O", "ID", 1, 2),
             notes="R04050605? C0403 C0501"),
    "SLN": S(E("350", "M", "AN", 1, 20), E("350", "O", "AN", 1, 20), E("662", "M", "ID", 1, 1), E("380", "C", "R", 1, 15),
             Composite("C001", "C", _C001.components), E("212", "C", "R", 1, 17), E("639", "O", "ID", 2, 2),
             E("662", "O", "ID", 1, 1), *_product_pairs(9, 10), notes="P0405 C0706 C0806 " + _pair_notes(9)),
    # ---------------------------------------------------------------- 856
    "BSN": S(E("353", "M", "ID", 2, 2, c.PURPOSE), E("396", "M", "AN", 2, 30), E("373", "M", "DT", 8, 8),
             E("337", "M", "TM", 4, 8), E("1005", "O", "ID", 4, 4, c.HL_STRUCTURE), E("640", "C", "ID", 2, 2),
             E("641", "O", "ID", 3, 3), notes="C0706"),
    "HL": S(E("628", "M", "AN", 1, 12), E("734", "O", "AN", 1, 12), E("735", "M", "ID", 1, 2, c.HL_LEVEL),
            E("736", "O", "ID", 1, 1)),
    "PRF": S(E("324", "M", "AN", 1, 22), E("328", "O", "AN", 1, 30), E("327", "O", "AN", 1, 8), E("373", "O", "DT", 8, 8),
             E("350", "O", "AN", 1, 20), E("367", "O", "AN", 1, 30), E("92", "O", "ID", 2, 2)),
    "MAN": S(E("88", "M", "ID", 1, 2, c.MARKS_QUALIFIER), E("87", "M", "AN", 1, 48), E("87", "O", "AN", 1, 48),
             E("88", "C", "ID", 1, 2), E("87", "C", "AN", 1, 48), E("87", "O", "AN", 1, 48), notes="P0405 C0605"),
    "LIN": S(E("350", "O", "AN", 1, 20), *_product_pairs(2, 15, mandatory_first=True), notes=_pair_notes(4, 14)),
    "SN1": S(E("350", "O", "AN", 1, 20), E("382", "M", "R", 1, 10), E("355", "M", "ID", 2, 2, c.UOM),
             E("646", "O", "R", 1, 15), E("330", "O", "R", 1, 15), E("355", "C", "ID", 2, 2, c.UOM),
             E("728", "O", "ID", 2, 2), E("668", "O", "ID", 2, 2), notes="P0506"),
    # ---------------------------------------------------------------- 810
    "BIG": S(E("373", "M", "DT", 8, 8), E("76", "M", "AN", 1, 22), E("373", "O", "DT", 8, 8), E("324", "O", "AN", 1, 22),
             E("328", "O", "AN", 1, 30), E("327", "O", "AN", 1, 8), E("640", "O", "ID", 2, 2),
             E("353", "O", "ID", 2, 2, c.PURPOSE), E("306", "O", "ID", 1, 2), E("76", "O", "AN", 1, 22)),
    "IT1": S(E("350", "O", "AN", 1, 20), E("358", "C", "R", 1, 10), E("355", "C", "ID", 2, 2, c.UOM),
             E("212", "C", "R", 1, 17), E("639", "O", "ID", 2, 2), *_product_pairs(6),
             notes="P020304 " + _pair_notes(6)),
    "TDS": S(E("610", "M", "N2", 1, 15), E("610", "O", "N2", 1, 15), E("610", "O", "N2", 1, 15), E("610", "O", "N2", 1, 15)),
    "CAD": S(E("91", "O", "ID", 1, 2), E("206", "O", "AN", 1, 4), E("207", "O", "AN", 1, 10), E("140", "C", "ID", 2, 4),
             E("387", "C", "AN", 1, 35), E("368", "O", "ID", 2, 2), E("128", "C", "ID", 2, 3), E("127", "C", "AN", 1, 30),
             E("284", "O", "ID", 2, 2), notes="R0405 P0708"),
    "ISS": S(E("382", "C", "R", 1, 10), E("355", "C", "ID", 2, 2, c.UOM), E("81", "C", "R", 1, 10), _UOM,
             E("183", "C", "R", 1, 8), _UOM, notes="P0102 P0304 P0506"),
    "IT3": S(E("382", "C", "R", 1, 10), E("355", "C", "ID", 2, 2, c.UOM), E("368", "C", "ID", 2, 2),
             E("383", "O", "R", 1, 9), E("371", "O", "ID", 2, 2), notes="P0102"),
    # ---------------------------------------------------------------- 997
    "AK1": S(E("479", "M", "ID", 2, 2, c.FUNCTIONAL_ID), E("28", "M", "N0", 1, 9)),
    "AK2": S(E("143", "M", "ID", 3, 3), E("329", "M", "AN", 4, 9)),
    "AK3": S(E("721", "M", "ID", 2, 3), E("719", "M", "N0", 1, 6), E("447", "O", "AN", 1, 6),
             E("720", "O", "ID", 1, 3, c.SEGMENT_ERROR)),
    "AK4": S(Composite("C030", "M", (E("722", "M", "N0", 1, 2), E("1528", "O", "N0", 1, 2))), E("725", "O", "N0", 1, 4),
             E("723", "M", "ID", 1, 3, c.ELEMENT_ERROR), E("724", "O", "AN", 1, 99)),
    "AK5": S(E("717", "M", "ID", 1, 1, c.SET_ACK), E("718", "O", "ID", 1, 3, c.SET_ERROR),
             E("718", "O", "ID", 1, 3, c.SET_ERROR), E("718", "O", "ID", 1, 3, c.SET_ERROR),
             E("718", "O", "ID", 1, 3, c.SET_ERROR), E("718", "O", "ID", 1, 3, c.SET_ERROR)),
    "AK9": S(E("715", "M", "ID", 1, 1, c.GROUP_ACK), E("97", "M", "N0", 1, 6), E("123", "M", "N0", 1, 6),
             E("2", "M", "N0", 1, 6), E("716", "O", "ID", 1, 3, c.GROUP_ERROR), E("716", "O", "ID", 1, 3, c.GROUP_ERROR),
             E("716", "O", "ID", 1, 3, c.GROUP_ERROR), E("716", "O", "ID", 1, 3, c.GROUP_ERROR),
             E("716", "O", "ID", 1, 3, c.GROUP_ERROR)),
}
del SEGMENTS_4010["DTM2"]
# '?' marks notes we are not sure enough of to enforce: drop them.
for _sid, _spec in list(SEGMENTS_4010.items()):
    if any(n.endswith("?") for n in _spec.notes):
        SEGMENTS_4010[_sid] = SegmentSpec(_spec.elements, tuple(n for n in _spec.notes if not n.endswith("?")))


def _widen(spec: SegmentSpec, **max_by_position: int) -> SegmentSpec:
    """A copy of ``spec`` with the max length of some elements changed (``e2=50`` -> element 2)."""
    elements = list(spec.elements)
    for key, mx in max_by_position.items():
        i = int(key[1:]) - 1
        el = elements[i]
        assert isinstance(el, E)
        elements[i] = E(el.ref, el.req, el.type, el.min, mx, el.codes, el.open_codes)
    return SegmentSpec(tuple(elements), spec.notes)


_B = SEGMENTS_4010
_CTX_POSITION = Composite("C030", "O", (E("722", "M", "N0", 1, 2), E("1528", "O", "N0", 1, 2), E("1686", "O", "N0", 1, 4)))

SEGMENTS_5010: dict[str, SegmentSpec] = {
    **_B,
    "ST": S(E("143", "M", "ID", 3, 3), E("329", "M", "AN", 4, 9), E("1705", "O", "AN", 1, 35)),
    "REF": _widen(_B["REF"], e2=50),
    "N1": _widen(_B["N1"], e2=60, e4=80),
    "N4": S(*_B["N4"].elements, E("1715", "O", "ID", 1, 3), notes="E0207 C0605 C0704"),
    "PER": _widen(_B["PER"], e4=256, e6=256, e8=256),
    "N9": _widen(_B["N9"], e2=50),
    "PID": _widen(_B["PID"], e5=80),
    "TD5": _widen(_B["TD5"], e5=35),
    "AK1": S(E("479", "M", "ID", 2, 2, c.FUNCTIONAL_ID), E("28", "M", "N0", 1, 9), E("480", "O", "AN", 1, 12)),
    "AK2": S(E("143", "M", "ID", 3, 3), E("329", "M", "AN", 4, 9), E("1705", "O", "AN", 1, 35)),
    "AK3": S(E("721", "M", "ID", 2, 3), E("719", "M", "N0", 1, 10), E("447", "O", "AN", 1, 4),
             E("720", "O", "ID", 1, 3, c.SEGMENT_ERROR)),
    "AK4": S(Composite("C030", "M", (E("722", "M", "N0", 1, 2), E("1528", "O", "N0", 1, 2), E("1686", "O", "N0", 1, 4))),
             E("725", "O", "N0", 1, 4), E("723", "M", "ID", 1, 3, c.ELEMENT_ERROR), E("724", "O", "AN", 1, 99)),
    # 999
    "IK3": S(E("721", "M", "ID", 2, 3), E("719", "M", "N0", 1, 10), E("447", "O", "AN", 1, 4),
             E("620", "M", "ID", 1, 3, c.SEGMENT_ERROR)),
    "IK4": S(Composite("C030", "M", (E("722", "M", "N0", 1, 2), E("1528", "O", "N0", 1, 2), E("1686", "O", "N0", 1, 4))),
             E("725", "O", "N0", 1, 4), E("621", "M", "ID", 1, 3, c.ELEMENT_ERROR), E("724", "O", "AN", 1, 99)),
    "IK5": S(E("717", "M", "ID", 1, 1, c.SET_ACK), E("618", "O", "ID", 1, 3, c.SET_ERROR),
             E("618", "O", "ID", 1, 3, c.SET_ERROR), E("618", "O", "ID", 1, 3, c.SET_ERROR),
             E("618", "O", "ID", 1, 3, c.SET_ERROR), E("618", "O", "ID", 1, 3, c.SET_ERROR)),
    "CTX": S(Composite("C998", "M", (E("9999", "M", "AN", 1, 35), E("9998", "O", "AN", 1, 35)), repeat=10),
             E("721", "O", "ID", 2, 3), E("719", "O", "N0", 1, 10), E("447", "O", "AN", 1, 4), _CTX_POSITION,
             Composite("C999", "O", (E("1725", "M", "N0", 1, 4), E("1528", "O", "N0", 1, 2), E("1686", "O", "N0", 1, 4))),
             notes="P0203"),
}
