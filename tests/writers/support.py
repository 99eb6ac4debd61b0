"""Test helpers for the writers: an independent tokenizer, envelope checks, pyx12 as a second reader."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyx12
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document
from hypothesis import strategies as st
from lxml import etree

from outbound.writers import X12Envelope
from partners.profile import Delimiters, X12Identity

# Text a partner could legally receive: no delimiters of any envelope these tests use.
SAFE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -.,/#&()'"


def safe_text(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[str]:
    """Element text without delimiters, not blank, no leading/trailing space."""
    return st.text(SAFE_ALPHABET, min_size=min_size, max_size=max_size).map(str.strip).filter(bool)


def envelope(
    version: str = "004010",
    *,
    delimiters: Delimiters | None = None,
    isa13: int = 1,
    gs06: int = 1,
    sender: str = "SENDERID",
    receiver: str = "RECEIVERID",
) -> X12Envelope:
    """A test envelope with fixed date/time."""
    return X12Envelope(
        sender=X12Identity(qualifier="ZZ", id=sender),
        receiver=X12Identity(qualifier="ZZ", id=receiver),
        version=version,
        delimiters=delimiters or Delimiters(),
        isa13=isa13,
        gs06=gs06,
        date=dt.date(2024, 2, 29),
        time=dt.time(23, 59),
    )


@dataclass
class Tokens:
    """An interchange split into segments of elements, with the separators read from ISA."""

    element: str
    component: str
    segment: str
    segments: list[list[str]]

    def ids(self) -> list[str]:
        """The segment ids in order."""
        return [s[0] for s in self.segments]

    def find(self, seg_id: str) -> list[list[str]]:
        """All segments with this id."""
        return [s for s in self.segments if s[0] == seg_id]


def tokenize(data: bytes, encoding: str = "ascii") -> Tokens:
    """Split an interchange using only the fixed ISA positions (3, 104, 105)."""
    text = data.decode(encoding)
    assert text.startswith("ISA"), text[:20]
    element, component, terminator = text[3], text[104], text[105]
    segments = []
    for raw in text.split(terminator):
        raw = raw.strip("\r\n")
        if raw:
            segments.append(raw.split(element))
    return Tokens(element, component, terminator, segments)


def check_envelope(tokens: Tokens) -> list[list[list[str]]]:
    """Assert ISA/GS/ST/SE/GE/IEA structure and counts; return the transaction sets (ST..SE)."""
    segs = tokens.segments
    assert segs[0][0] == "ISA" and segs[-1][0] == "IEA"
    isa, iea = segs[0], segs[-1]
    assert len(isa) == 17
    assert iea[2] == isa[13]
    groups = 0
    sets: list[list[list[str]]] = []
    i = 1
    while i < len(segs) - 1 and segs[i][0] == "TA1":
        i += 1
    while i < len(segs) - 1:
        gs = segs[i]
        assert gs[0] == "GS", gs
        groups += 1
        i += 1
        group_sets = 0
        while segs[i][0] == "ST":
            start = i
            while segs[i][0] != "SE":
                assert segs[i][0] not in ("GS", "GE", "IEA", "ST") or i == start, segs[i]
                i += 1
            se = segs[i]
            assert int(se[1]) == i - start + 1, f"SE01 {se[1]} but {i - start + 1} segments"
            assert se[2] == segs[start][2], "SE02 must equal ST02"
            sets.append(segs[start : i + 1])
            group_sets += 1
            i += 1
        ge = segs[i]
        assert ge[0] == "GE", ge
        assert int(ge[1]) == group_sets
        assert ge[2] == gs[6]
        i += 1
    assert int(iea[1]) == groups
    return sets


# --------------------------------------------------------------------------- pyx12


def pyx12_read(data: bytes) -> tuple[list[str], list[tuple[object, ...]]]:
    """Read with pyx12's X12Reader (its own envelope and count checks): segment ids and errors."""
    reader = pyx12.x12file.X12Reader(io.StringIO(data.decode("utf-8")))
    ids: list[str] = []
    errors: list[tuple[object, ...]] = []
    for seg in reader:
        ids.append(seg.get_seg_id())
        errors.extend(reader.pop_errors())
    reader.cleanup()
    errors.extend(reader.pop_errors())
    return ids, errors


_MAP_FILES = ("maps.xml", "997.4010.xml", "999.5010X231.A1.xml", "999.5010.xml",
              "x12.control.00401.xml", "x12.control.00501.xml", "codes.xml", "dataele.xml")


def pyx12_map_dir() -> Path:
    """pyx12's own map directory."""
    return Path(pyx12.__file__).parent / "map"


def widen_ack_maps(target: Path, functional_ids: list[str], set_ids: list[str]) -> Path:
    """Copy pyx12's 997/999 maps and add supply-chain codes to AK101/AK201 (they list HIPAA ones only).

    Only those two code lists change; every structural rule of pyx12's maps stays as shipped.
    """
    source = pyx12_map_dir()
    target.mkdir(parents=True, exist_ok=True)
    for name in _MAP_FILES:
        shutil.copy(source / name, target / name)
    for name in ("997.4010.xml", "999.5010X231.A1.xml"):
        tree = etree.parse(str(target / name))
        for xid, codes in (("AK101", functional_ids), ("AK201", set_ids)):
            [element] = [e for e in tree.iter("element") if e.get("xid") == xid]
            valid = element.find("valid_codes")
            for code in codes:
                etree.SubElement(valid, "code").text = code
        tree.write(str(target / name), xml_declaration=True, encoding="utf-8")
    return target


def pyx12_validate(data: bytes, map_path: Path | None = None) -> tuple[bool, list[str]]:
    """Validate an interchange against pyx12's maps: (valid, error messages from its JSON report)."""
    params = pyx12.params.params()
    report = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        params, io.StringIO(data.decode("utf-8")), None, None, None, report,
        map_path=str(map_path) if map_path else None,
    )
    messages: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for err in node.get("errors", []):
                messages.append(f"{err.get('err_cde')}: {err.get('err_str')}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(report.getvalue()))
    return ok, messages
