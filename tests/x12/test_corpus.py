"""Corpus walk: every real sample reads without exceptions; every broken sample is flagged as expected."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from parsers.x12 import FileProblem, InterchangeAckSegment, TransactionSet, iter_x12, read_ta1, read_transaction_set

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")]

# broken/ file -> issue codes (ours) of which at least one must be present
EXPECTED = {
    "edifabric__PurchaseOrderInvalid.txt": {"x12.element.invalid_code"},
    "ediengine__850.SyntaxNotes.ERR.edi": {"x12.element.syntax_note"},
    "staedi__invalid997.edi": {"x12.element.invalid_code", "x12.element.invalid_character"},
    "staedi__invalid997_min.edi": {"x12.element.invalid_code", "x12.gs.date"},
    "staedi__nonnumeric_BIN01.edi": {"x12.unsupported_transaction_set"},
    "oopx12__860_Example1.txt": {"x12.segment.line_break"},
    "edifabric__DuplicateMessage.txt": {"x12.st.duplicate_control_number"},
    "edinet__x12.850.edi": {"x12.iea.control_number"},
}


def _walk(path: Path) -> tuple[list[tuple[TransactionSet, object]], list[object], list[str]]:
    results = []
    ta1s = []
    codes: list[str] = []
    for event in iter_x12(path.read_bytes()):
        codes += [i.code for i in getattr(event, "issues", [])]
        if isinstance(event, FileProblem):
            continue
        if isinstance(event, TransactionSet):
            r = read_transaction_set(event)
            results.append((event, r))
            codes += [i.code for i in r.issues]
        elif isinstance(event, InterchangeAckSegment):
            ta1s.append(read_ta1(event.ta1))
    return results, ta1s, codes


def test_corpus_walk() -> None:
    counts: collections.Counter[str] = collections.Counter()
    for folder in ("x12", "broken"):
        for path in sorted((CORPUS / folder).iterdir()):
            counts[f"{folder} files"] += 1
            results, ta1s, codes = _walk(path)
            for _, r in results:
                counts[f"{folder} {r.kind}"] += 1  # type: ignore[attr-defined]
                counts[f"{folder} {r.status}"] += 1  # type: ignore[attr-defined]
            counts[f"{folder} TA1"] += len(ta1s)
            if folder == "x12":
                assert results or ta1s, path.name
            else:
                errors_or_flags = [c for c in codes]
                assert errors_or_flags, f"{path.name}: nothing flagged"
                if path.name in EXPECTED:
                    assert EXPECTED[path.name] & set(codes), (path.name, sorted(set(codes)))
    print("\n" + "\n".join(f"{k:40} {v}" for k, v in sorted(counts.items())))
