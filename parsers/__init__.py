"""parsers: partners' bytes (X12, XML, CSV) to canonical documents, and canonical documents back to X12."""

from parsers.native_guard import guard

guard()  # before any compiled module can be imported: a stale compiled build must never load
