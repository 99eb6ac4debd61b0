"""Transaction set readers: one ``TransactionSet`` in, a canonical document plus its validation issues out.

Rules:
- Dispatch is a lookup table on ST01 (``READERS``); any other set is "unsupported": no document,
  one issue that says which set it was (a warning for real X12 sets we do not read, an error for
  an identifier that is no X12 transaction set at all, or for any unsupported set when ``strict``).
- Issues = the set's envelope issues + the validation tables' issues + what only the reader sees
  (CTT totals, the 856 HL tree). ``SetResult.status`` summarises them for the ack.
- Nothing here raises for bad input: a reader that hits a bug in itself reports it as an error issue
  rather than losing the partner's document silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import ValidationError

from parsers.canonical import FunctionalAck, Invoice, PurchaseOrder, ShipNotice
from parsers.issues import Issue, Level, Severity, error, warning
from parsers.x12.readers.functional_ack import read_fa, read_ta1
from parsers.x12.readers.invoice import read_810
from parsers.x12.readers.purchase_order import read_850
from parsers.x12.readers.ship_notice import read_856
from parsers.x12.rules import validate_segments
from parsers.x12.stream import FUNCTIONAL_GROUPS, TransactionSet

Document = PurchaseOrder | ShipNotice | Invoice | FunctionalAck
Reader = Callable[[TransactionSet], tuple[Document, list[Issue]]]

READERS: dict[str, tuple[str, Reader]] = {
    "850": ("purchase_order", read_850),
    "856": ("ship_notice", read_856),
    "810": ("invoice", read_810),
    "997": ("functional_ack", lambda ts: read_fa(ts, "997")),
    "999": ("functional_ack", lambda ts: read_fa(ts, "999")),
}

# Transaction sets that exist in X12 (beyond the GS01 table): unsupported, but not invalid.
_KNOWN_SET_IDS = """
100 101 102 103 104 105 106 107 108 109 110 111 112 113 120 121 124 125 126 127 128 129 130 131 132 133 135 138
139 140 141 142 143 144 146 147 148 149 150 151 152 153 154 155 157 158 159 160 161 163 170 175 176 179 180 185
186 187 188 189 190 191 194 195 196 197 198 199 200 201 202 203 204 205 206 210 211 212 213 214 215 216 217 218
219 220 222 223 224 225 227 228 240 242 244 245 248 249 250 251 252 255 256 259 260 261 262 263 264 265 266 267
268 269 270 271 272 273 274 275 276 277 278 280 283 284 285 286 288 290 300 301 303 304 309 310 311 312 313 315
317 319 322 323 324 325 326 350 352 353 354 355 356 357 358 361 362 404 410 412 414 417 418 419 420 421 422 423
424 425 426 429 431 432 433 434 435 436 437 440 451 452 453 455 456 460 463 466 468 470 475 485 486 490 492 494
500 501 503 504 511 517 521 527 536 540 561 567 568 601 602 620 625 650 715 753 754 805 806 810 811 812 813 814
815 816 818 819 820 821 822 823 824 826 827 828 829 830 831 832 833 834 835 836 837 838 839 840 841 842 843 844
845 846 847 848 849 850 851 852 853 854 855 856 857 858 859 860 861 862 863 864 865 866 867 868 869 870 871 872
873 874 875 876 877 878 879 880 881 882 883 884 885 886 887 888 889 891 893 894 895 896 920 924 925 926 928 940
943 944 945 947 980 990 993 996 997 998 999
"""
KNOWN_SETS = frozenset(s for sets in FUNCTIONAL_GROUPS.values() for s in sets) | frozenset(_KNOWN_SET_IDS.split())

Kind = Literal["purchase_order", "ship_notice", "invoice", "functional_ack", "unsupported"]


@dataclass(slots=True)
class SetResult:
    """What reading one transaction set gave: its kind, the document (None when unsupported) and all issues."""

    kind: Kind
    document: Document | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def status(self) -> Literal["rejected", "accepted_with_warnings", "accepted"]:
        """rejected (any error), accepted_with_warnings (warnings only) or accepted."""
        if any(i.severity is Severity.ERROR for i in self.issues):
            return "rejected"
        return "accepted_with_warnings" if self.issues else "accepted"

    @property
    def errors(self) -> list[Issue]:
        """The error issues only."""
        return [i for i in self.issues if i.severity is Severity.ERROR]


# Element problems that leave the data usable: errors in strict mode, warnings otherwise (real partners
# break syntax notes and length limits all the time; the 997 still reports them, as accepted with errors).
TOLERATED_ELEMENT_CODES = frozenset({"x12.element.syntax_note", "x12.element.too_long",
                                     "x12.element.invalid_character"})


def tolerate(issues: list[Issue]) -> list[Issue]:
    """Downgrade tolerated element errors to warnings, and their segment's AK3 code 8 when nothing else is wrong."""
    out: list[Issue] = []
    still_bad: set[int | None] = set()
    for issue in issues:
        if issue.is_error and issue.code in TOLERATED_ELEMENT_CODES:
            issue = replace(issue, severity=Severity.WARNING)
        elif issue.is_error and issue.level is Level.ELEMENT:
            still_bad.add(issue.position)
        out.append(issue)
    return [replace(i, severity=Severity.WARNING)
            if i.is_error and i.code == "x12.segment.element_errors" and i.position not in still_bad else i
            for i in out]


def read_transaction_set(ts: TransactionSet, *, strict: bool = False) -> SetResult:
    """Validate and read one transaction set into its canonical document."""
    issues = list(ts.issues)
    set_id = ts.id
    entry = READERS.get(set_id)
    if entry is None:
        if set_id in KNOWN_SETS:
            make = error if strict else warning
            issues.append(make("x12.unsupported_transaction_set", f"transaction set {set_id} (control number "
                               f"{ts.control_number}) is not one we read (850, 856, 810, 997, 999)",
                               level=Level.TRANSACTION, segment="ST", position=1, element=1, x12_code="1",
                               value=set_id))
        elif not any(i.code == "x12.st.id" for i in issues):
            issues.append(error("x12.unsupported_transaction_set", f"ST01 {set_id!r} is not an X12 transaction set "
                                "identifier", level=Level.TRANSACTION, segment="ST", position=1, element=1,
                                x12_code="6", value=set_id[:20]))
        return SetResult("unsupported", None, issues)
    kind, reader = entry
    d = ts.delimiters
    checked = validate_segments(ts.segments, set_id, ts.version, d.component, d.repetition, strict=strict)
    issues.extend(checked if strict else tolerate(checked))
    try:
        document, found = reader(ts)
    except (ValidationError, ValueError, IndexError, KeyError, TypeError) as exc:  # a reader bug, not the partner's
        issues.append(error("x12.reader.failed", f"could not build the {kind.replace('_', ' ')} from transaction set "
                            f"{set_id} {ts.control_number}: {exc.__class__.__name__}: {str(exc)[:200]}",
                            level=Level.TRANSACTION, x12_code="5"))
        return SetResult(kind, None, issues)  # type: ignore[arg-type]
    issues.extend(found)
    return SetResult(kind, document, issues)  # type: ignore[arg-type]


__all__ = ["READERS", "SetResult", "read_ta1", "read_transaction_set"]
