"""The public sample corpus (../shared/corpus): every XML and CSV file is read; skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.csv import builtin_mapping, read_csv
from parsers.xml import read_xml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present"),
]

# Recognised documents that have no canonical model: they must yield a clear issue, not a document.
XML_UNSUPPORTED = {
    "cxmlphp__StatusUpdateRequest.xml": "StatusUpdateRequest",
    "peppol__OrderResponse_Example.xml": "OrderResponse",
}
CSV_MAPPINGS = {
    "bots__articledata01.csv": "bots_articledata",
    "bots__orders1.inh": "bots_orders_fixed",
    "bots__test.csv": "bots_orders_csv",
    "edifabric__PurchaseOrder.csv": "edifabric_purchase_order",
    "edifabricff__Flat_PO.txt": "edifabric_flat_po",
    "ocaedi__order_file_test1.csv": "oca_order_file",
}
# documents per file, as counted by hand from the files
EXPECTED_COUNTS = {"staedi__invoice810_po850_dual.xml": 3, "bots__orders1.inh": 5, "bots__test.csv": 4}


def _files(folder: str) -> list[str]:
    """File names in a corpus folder (empty when the corpus is absent)."""
    path = CORPUS / folder
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


@pytest.mark.parametrize("name", _files("xml"))
def test_xml_corpus_file(name: str) -> None:
    result = read_xml((CORPUS / "xml" / name).read_bytes())
    if name in XML_UNSUPPORTED:
        assert result.documents == []
        assert [i.code for i in result.issues] == ["xml.unsupported_document"]
        assert XML_UNSUPPORTED[name] in result.issues[0].message
        return
    assert len(result.documents) >= 1
    assert not result.errors, result.errors
    assert len(result.documents) == EXPECTED_COUNTS.get(name, 1)
    for doc in result.documents:
        assert doc.business_key


def test_every_csv_corpus_file_has_a_mapping() -> None:
    assert sorted(CSV_MAPPINGS) == _files("csv")


@pytest.mark.parametrize("name", _files("csv"))
def test_csv_corpus_file(name: str) -> None:
    result = read_csv((CORPUS / "csv" / name).read_bytes(), builtin_mapping(CSV_MAPPINGS[name]))
    assert result.issues == []
    assert len(result.documents) == EXPECTED_COUNTS.get(name, 1)
    for doc in result.documents:
        assert doc.business_key and doc.lines  # type: ignore[union-attr]
