"""The speed-ups must not change what validation finds.

- The generated clean-segment check (``_Seg.clean``) must say "clean" exactly when the element-by-element
  check (``explain_segment``) finds nothing (a segment with a composite element present may always take
  the full check): for random segments of every spec, and for every segment of the real corpus.
- The structure memo must give the same issues as walking the structure afresh, as fresh objects.
- The 856 cycle check must still flag every level of an HL loop.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.issues import Issue
from parsers.x12 import TransactionSet, iter_x12, read_transaction_set
from parsers.x12.rules import validate as v
from parsers.x12.rules.structure import STRUCTURES
from tests.x12._build import envelope

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"

SPECS = sorted((fam, sid) for fam, table in v.COMPILED.items() for sid in table)


def _codes_pool() -> list[str]:
    """A few valid codes of every code list in the tables, so that ID elements are often valid."""
    pool: set[str] = set()
    for table in v.COMPILED.values():
        for spec in table.values():
            for el in spec.elements:
                for simple in (el.components if isinstance(el, v._Comp) else (el,)):
                    if simple.codes:
                        pool.update(sorted(simple.codes)[:4])
    return sorted(pool)


TRICKY = ["", "0", "00", "1", "-1", "-", ".", "1.", ".5", "-.5", ".-5", "1.2.3", "12.34", "-12.34", "007",
          "20260229", "20240229", "20261301", "261127", "991231", "1200", "2400", "1260", "120059", "1200599",
          "12005999", "²", "١٢", "A", "AB", "ABC", "X" * 30, "X" * 90, "a\x01b", "  ", " 1", "1 ", "EA", "UP",
          "ZZ", "NaN", "1e5", "+5", "1_000", "A>B", "A^B", "A>B>C>D>E>F>G", "1>2", "1>2>3>4"]
VALUES = st.one_of(st.sampled_from(TRICKY), st.sampled_from(_codes_pool()),
                   st.text(string.digits, min_size=1, max_size=20),
                   st.text(string.ascii_uppercase + string.digits + " .-", max_size=12),
                   st.text(max_size=6))


def _issues(seg: list[str], spec: v._Seg, six: bool, sep: str = ">", rep: str | None = "^") -> list[Issue]:
    out: list[Issue] = []
    v.explain_segment(seg, spec, 3, sep, rep, six, out)
    return out


def _agree(spec: v._Seg, seg: list[str], six: bool, sep: str = ">", rep: str | None = "^") -> bool:
    """clean => no issues, always; no issues => clean, unless a composite element is present."""
    clean = spec.clean(list(seg), six)
    found = _issues(seg, spec, six, sep, rep)
    if clean:
        return not found
    composite_present = any(isinstance(el, v._Comp) and i < len(seg) and seg[i]
                            for i, el in enumerate(spec.elements, 1))
    return bool(found) or composite_present


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SPECS), st.lists(VALUES, max_size=40), st.booleans())
def test_clean_check_agrees_with_full_check(key: tuple[str, str], values: list[str], six: bool) -> None:
    fam, sid = key
    spec = v.COMPILED[fam][sid]
    seg = [sid, *values[: len(spec.elements) + 2]]
    assert _agree(spec, seg, six), (fam, seg, six)


@pytest.mark.parametrize("fam", sorted(v.COMPILED))
def test_clean_check_agrees_on_short_and_padded_segments(fam: str) -> None:
    for sid, spec in v.COMPILED[fam].items():
        for n in range(len(spec.elements) + 3):
            for fill in ("", "1", "A"):
                seg = [sid, *([fill] * n)]
                for six in (False, True):
                    assert _agree(spec, seg, six), (fam, seg, six)


def _valid_value(el: v._El | v._Comp) -> str:
    """A value that passes the element's own checks (so that only syntax notes decide)."""
    if isinstance(el, v._Comp):
        return ""
    if el.codes:
        return sorted(el.codes)[0]
    by_kind = {v._N: "1" * max(1, el.min), v._R: "1", v._DT: "20260101", v._TM: "1200"}
    return by_kind.get(el.kind, "X" * max(1, el.min))


@pytest.mark.parametrize("fam", sorted(v.COMPILED))
def test_clean_check_agrees_on_every_syntax_note_combination(fam: str) -> None:
    checked = 0
    for sid, spec in v.COMPILED[fam].items():
        base = [_valid_value(el) if el.mandatory else "" for el in spec.elements]
        for note in spec.notes:
            pos = [p for p in note.positions if p <= len(spec.elements)]
            for sent in range(1, len(spec.elements) + 1):
                for mask in range(1 << len(pos)):
                    values = list(base)
                    for k, p in enumerate(pos):
                        if mask >> k & 1:
                            values[p - 1] = _valid_value(spec.elements[p - 1])
                    seg = [sid, *values[:sent]]
                    for six in (False, True):
                        assert _agree(spec, seg, six), (fam, note.text, seg)
                    checked += 1
    assert checked > 1000


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_clean_check_agrees_on_every_corpus_segment() -> None:
    checked = 0
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or path.suffix.lower() in (".xml", ".csv", ".md", ".json"):
            continue
        for ev in iter_x12(path.read_bytes()):
            if not isinstance(ev, TransactionSet):
                continue
            d = ev.delimiters
            table = v.COMPILED[v.family(ev.version)]
            six = ev.version[:3] < "004"
            for seg in ev.segments:
                spec = table.get(seg[0])
                if spec is None:
                    continue
                assert _agree(spec, seg, six, d.component, d.repetition), (path.name, seg)
                checked += 1
    assert checked > 500


def _po(lines: int, extra: str = "") -> bytes:
    body = ["ST*850*0001", "BEG*00*SA*PO1**20260101"]
    for i in range(1, lines + 1):
        body += [f"PO1*{i}*2*EA*1.50**UP*012345678905", "PID*F****WIDGET"]
    body += [extra] if extra else []
    body += [f"CTT*{lines}*{2 * lines}", f"SE*{len(body) + 2}*0001"]
    return envelope(body, gs01="PO")


@pytest.mark.parametrize("extra", ["", "BEG*00*SA*PO2**20260101", "ZZZ*1", "NTE**NOTE"])
def test_structure_memo_gives_the_walk_issues_as_fresh_objects(extra: str) -> None:
    data = _po(3, extra)
    (ts,) = [e for e in iter_x12(data) if isinstance(e, TransactionSet)]
    sids = [seg[0] for seg in ts.segments]
    root = STRUCTURES[("850", "4010")]
    v._SHAPE_MEMO.clear()
    first = v._structure_issues(root, "850", False, sids)
    second = v._structure_issues(root, "850", False, sids)  # from the memo
    fresh = v._walk(root, "850", False, sids)
    assert first == second == fresh
    assert all(a is not b for a, b in zip(first, second, strict=True))
    if extra:
        assert fresh, "the extra segment must be reported"
        second[0].message = "changed by a consumer"
        assert v._structure_issues(root, "850", False, sids)[0].message == fresh[0].message


def test_strict_and_lenient_shapes_are_remembered_apart() -> None:
    data = _po(2, "BEG*00*SA*PO2**20260101")
    (ts,) = [e for e in iter_x12(data) if isinstance(e, TransactionSet)]
    lenient = read_transaction_set(ts)
    strict = read_transaction_set(ts, strict=True)
    seq = [i for i in lenient.issues if i.code == "x12.segment.sequence"]
    seq_strict = [i for i in strict.issues if i.code == "x12.segment.sequence"]
    assert seq and not seq[0].is_error
    assert seq_strict and seq_strict[0].is_error


def _asn(hls: list[str]) -> bytes:
    body = ["ST*856*0001", "BSN*00*SHIP1*20260101*1200*0001", *hls, f"CTT*{len(hls)}"]
    body.append(f"SE*{len(body) + 1}*0001")
    return envelope(body, gs01="SH")


def test_hl_cycle_is_flagged_on_every_level_of_the_loop() -> None:
    data = _asn(["HL*1**S", "HL*2*3*O", "HL*3*2*P", "HL*4*3*I", "HL*5*1*O"])
    (ts,) = [e for e in iter_x12(data) if isinstance(e, TransactionSet)]
    result = read_transaction_set(ts)
    loops = [i for i in result.issues if i.code == "x12.hl.structure" and "loops back" in i.message]
    assert sorted(i.position for i in loops if i.position is not None) == [4, 5, 6]  # HL 2, 3 and 4 (under 3)
    assert result.status == "rejected"


def _shape(roots: list[object]) -> list[tuple[str, object]]:
    return [(lv.hl_id, _shape(lv.children)) for lv in roots]  # type: ignore[attr-defined]


@pytest.mark.parametrize("hls", [
    ["HL*1**S", "HL*2*1*O", "HL*3*2*P", "HL*4*3*I", "HL*5*3*I", "HL*6*2*P", "HL*7*6*I"],  # in order
    ["HL*1**S", "HL*3*2*P", "HL*2*1*O", "HL*4*3*I"],  # a child before its parent
    ["HL*1**S", "HL*2*1*O", "HL*2*1*P", "HL*3*2*I"],  # a repeated id
    ["HL*1**S", "HL*2*9*O", "HL*3*2*I"],  # an unknown parent
    ["HL*1*1*S", "HL*2*1*O"],  # its own parent
])
def test_hl_tree_in_order_fast_path_matches_the_general_tree(hls: list[str]) -> None:
    from parsers.x12.readers import ship_notice as sn

    data = _asn(hls)
    (ts,) = [e for e in iter_x12(data) if isinstance(e, TransactionSet)]
    levels = [sn._Level(seg, pos) for pos, seg in enumerate(ts.segments, 1) if seg[0] == "HL"]
    fast = sn._tree_in_order(levels)
    fast_shape = _shape(fast) if fast is not None else None  # (before _tree relinks the same levels)
    issues: list[Issue] = []
    general = sn._tree(levels, issues)
    if fast is not None:
        assert not issues
        assert fast_shape == _shape(general)
    else:
        assert issues or hls[1] == "HL*3*2*P"  # out of order but well formed: no issue, same tree either way
    assert read_transaction_set(ts).document is not None


def _read_all(paths: list[Path]) -> list[tuple[str, str | None, list[str]]]:
    from parsers.translate import translate

    return [(t.kind, t.document.model_dump_json() if t.document is not None else None, [i.code for i in t.issues])
            for path in paths for t in translate(path.read_bytes(), name=path.name)]


def test_readers_build_only_model_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reader dicts are validated without the unknown-key check; with it, every file must read the same."""
    from bench.generate import generate
    from parsers.x12.readers import _common

    generate(tmp_path / "850.x12", "850", 60_000)
    generate(tmp_path / "856.x12", "856", 60_000)
    paths = sorted(tmp_path.glob("*.x12")) + sorted((Path(__file__).parents[1] / "fixtures" / "x12").glob("*"))
    if CORPUS.is_dir():
        paths += sorted(p for sub in ("x12", "broken") for p in (CORPUS / sub).glob("*") if p.is_file())
    lenient = _read_all(paths)
    monkeypatch.setattr(_common, "READER_EXTRA", "forbid")
    strict = _read_all(paths)
    assert not any("x12.reader.failed" in codes for _, _, codes in strict)
    assert strict == lenient
