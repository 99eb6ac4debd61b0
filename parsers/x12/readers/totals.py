"""CTT checks shared by the 850, 810 and 856 readers: line count (error) and hash total (warning)."""

from __future__ import annotations

from decimal import Decimal

from parsers.issues import Issue, Level, error, warning


def check_totals(line_count: int | None, hash_total: Decimal | None, actual_lines: int, quantity_sum: Decimal,
                 ctt_position: int, line_segment: str, *, also_accept: int | None = None) -> list[Issue]:
    """Issues for CTT01 (number of ``line_segment`` segments) and CTT02 (sum of quantities) that do not add up."""
    issues: list[Issue] = []
    if not ctt_position:
        return issues
    if line_count is not None and line_count != actual_lines and line_count != also_accept:
        issues.append(error("x12.ctt.line_count", f"CTT01 says {line_count} but the transaction set has "
                            f"{actual_lines} {line_segment} segments", level=Level.TRANSACTION, segment="CTT",
                            position=ctt_position, element=1, x12_code="5", value=str(line_count)))
    if hash_total is not None and hash_total != quantity_sum:
        issues.append(warning("x12.ctt.hash_total", f"CTT02 hash total {hash_total} differs from the sum of "
                              f"{line_segment} quantities {quantity_sum}", level=Level.TRANSACTION, segment="CTT",
                              position=ctt_position, element=2, value=str(hash_total)))
    return issues
