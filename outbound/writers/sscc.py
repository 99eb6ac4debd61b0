"""SSCC-18 (GS1 Serial Shipping Container Code): check digit, construction and validation.

An SSCC is 18 digits: extension digit (1) + GS1 company prefix (7-10) + serial reference
(filling to 17 digits) + GS1 mod-10 check digit. On an 856 it goes in MAN*GM without the
"(00)" application identifier.
"""

from __future__ import annotations

from outbound.writers.x12 import WriterError


def sscc_check_digit(digits17: str) -> int:
    """The GS1 mod-10 check digit of 17 digits (weights 3,1,3,... from the left)."""
    if len(digits17) != 17 or not digits17.isascii() or not digits17.isdigit():
        raise ValueError(f"an SSCC body is 17 digits, got {digits17!r}")
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(digits17))
    return (10 - total % 10) % 10


def make_sscc(extension: int | str, company_prefix: str, serial: int | str) -> str:
    """Build an 18-digit SSCC: ``extension`` (0-9), the company prefix, the serial zero-padded, check digit."""
    ext = str(extension)
    if len(ext) != 1 or not ext.isdigit():
        raise ValueError(f"extension digit must be 0-9, got {extension!r}")
    if not (7 <= len(company_prefix) <= 10) or not company_prefix.isascii() or not company_prefix.isdigit():
        raise ValueError(f"GS1 company prefix must be 7-10 digits, got {company_prefix!r}")
    width = 16 - len(company_prefix)
    serial_text = str(serial)
    if not serial_text.isascii() or not serial_text.isdigit() or len(serial_text) > width:
        raise ValueError(f"serial {serial!r} must be at most {width} digits with prefix {company_prefix}")
    body = ext + company_prefix + serial_text.zfill(width)
    return body + str(sscc_check_digit(body))


def is_valid_sscc(value: str) -> bool:
    """True when ``value`` is 18 digits whose last digit is the right check digit."""
    if len(value) != 18 or not value.isascii() or not value.isdigit():
        return False
    return sscc_check_digit(value[:17]) == int(value[17])


def check_sscc(value: str, field: str = "MAN02") -> str:
    """``value`` if it is a valid SSCC-18, else a WriterError that says what is wrong with it."""
    if len(value) != 18 or not value.isascii() or not value.isdigit():
        raise WriterError(f"SSCC {value!r} is not 18 digits", field=field)
    expected = sscc_check_digit(value[:17])
    if expected != int(value[17]):
        raise WriterError(f"SSCC {value} has check digit {value[17]}, expected {expected}", field=field)
    return value
