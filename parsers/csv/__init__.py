"""CSV and record-tagged flat-file readers driven by per-partner mappings."""

from parsers.csv.builtin import BUILTIN_MAPPINGS, builtin_mapping
from parsers.csv.mapping import CsvColumn, CsvMapping, FixedField, RecordLayout
from parsers.csv.reader import CsvDocument, CsvResult, read_csv, read_csv_pair

__all__ = [
    "BUILTIN_MAPPINGS",
    "CsvColumn",
    "CsvDocument",
    "CsvMapping",
    "CsvResult",
    "FixedField",
    "RecordLayout",
    "builtin_mapping",
    "read_csv",
    "read_csv_pair",
]
