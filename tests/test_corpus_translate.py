"""Issue 2's corpus walk: every sample goes through `translate` (what `gateway translate` runs).

x12/, xml/ and csv/ files must yield documents (warnings where they deviate); every broken/ file
must be rejected or flagged with a specific problem; nothing may raise. Prints the counts.
Skipped when ../shared/corpus is absent (a user's clone does not have it).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from parsers.csv import builtin_mapping
from parsers.translate import translate

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")

CSV_MAPPINGS = {
    "edifabric__PurchaseOrder.csv": "edifabric_purchase_order",
    "bots__test.csv": "bots_orders_csv",
    "bots__articledata01.csv": "bots_articledata",
    "ocaedi__order_file_test1.csv": "oca_order_file",
    "bots__orders1.inh": "bots_orders_fixed",
    "edifabricff__Flat_PO.txt": "edifabric_flat_po",
}
# XML documents with no canonical model (a status update, an order response): reported as unsupported.
XML_WITHOUT_MODEL = {"cxmlphp__StatusUpdateRequest.xml", "peppol__OrderResponse_Example.xml"}


def _walk(folder: str) -> dict[str, list]:  # type: ignore[type-arg]
    results = {}
    for path in sorted((CORPUS / folder).iterdir()):
        mapping = builtin_mapping(CSV_MAPPINGS[path.name]) if folder == "csv" else None
        results[path.name] = list(translate(path.read_bytes(), name=path.name, csv_mapping=mapping))
    return results


def _print_counts(folder: str, results: dict[str, list]) -> None:  # type: ignore[type-arg]
    kinds = Counter(t.kind for ts in results.values() for t in ts)
    statuses = Counter(t.status for ts in results.values() for t in ts)
    print(f"\ncorpus/{folder}: {len(results)} files, {sum(len(v) for v in results.values())} results; "
          f"kinds {dict(kinds)}; statuses {dict(statuses)}")


@pytest.mark.parametrize("folder", ["x12", "xml", "csv"])
def test_good_samples_yield_documents(folder: str) -> None:
    results = _walk(folder)
    _print_counts(folder, results)
    for name, translations in results.items():
        if folder == "xml" and name in XML_WITHOUT_MODEL:
            assert [t.kind for t in translations] == ["unsupported"], name
            assert any("unsupported" in i.code for t in translations for i in t.issues), name
            continue
        documents = [t for t in translations if t.document is not None or t.kind == "unsupported"]
        assert documents, f"{name}: no document"
        assert any(t.document is not None for t in translations) or all(
            t.kind == "unsupported" and t.status != "rejected" for t in translations), name
        for t in translations:  # the JSON line is always producible
            assert t.to_json().startswith("{")


def test_broken_samples_are_rejected_or_flagged() -> None:
    results = _walk("broken")
    _print_counts("broken", results)
    for name, translations in results.items():
        assert translations, name
        flagged = [i for t in translations for i in t.issues]
        assert flagged, f"{name}: nothing flagged"
        assert all(i.code and i.message for i in flagged), name
        rejected = any(t.status == "rejected" for t in translations)
        assert rejected or any(not i.is_error for i in flagged), name
