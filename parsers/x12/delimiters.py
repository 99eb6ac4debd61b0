"""X12 delimiter sniffing from the ISA segment.

Rules (X12.5 / X12.6):
- The ISA segment has 16 elements of fixed width; the character right after ``ISA`` is the
  element separator, ISA16 (one character) is the component separator and the character after it
  is the segment terminator. ISA11 is the repetition separator from version 00402 on.
- We do not trust fixed byte offsets: partners pad ISA with the wrong characters, skip the
  padding, wrap the file at 80 columns or put a multi-byte character as terminator. We walk the
  16 element separators instead, and report a fixed-width violation as its own issue.
- Separators must differ from each other and must not be letters, digits or space.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers.issues import Issue, Level, error, warning

ISA_ELEMENT_WIDTHS: tuple[int, ...] = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
NEWLINES = "\r\n"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators of one interchange, as sniffed from (or written into) its ISA."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    def as_tuple(self) -> tuple[str, str, str | None, str]:
        """The four separators in ISA order of appearance, for comparisons."""
        return (self.element, self.component, self.repetition, self.segment)


@dataclass(slots=True)
class SniffedIsa:
    """The outcome of reading an ISA segment at the start of ``text``."""

    elements: list[str]  # ["ISA", ISA01, ..., ISA16]
    delimiters: Delimiters
    end: int  # index in text just past the segment terminator
    wrapped: bool  # line breaks inside segments (files wrapped at N columns)
    issues: list[Issue]


def _isa_error(code: str, message: str, ta1: str, **where: object) -> Issue:
    return error(code, message, level=Level.INTERCHANGE, segment="ISA", x12_code=ta1, **where)


def sniff_isa(text: str, start: int = 0, *, allow_short_isa: bool = True,
              allow_isa11_repetition_in_00401: bool = True) -> SniffedIsa | Issue:
    """Read the ISA at ``text[start:]``; return its elements and delimiters, or the issue that stops us.

    ``text`` must hold the whole ISA segment (about 110 characters, more when wrapped).
    """
    if text[start : start + 3] != "ISA":
        return _isa_error("x12.isa.missing", f"expected an ISA segment, found {text[start:start + 20]!r}",
                          "024")
    if len(text) < start + 4:
        return _isa_error("x12.isa.truncated", "file ends inside the ISA segment", "023")
    sep = text[start + 3]
    if sep.isalnum() or sep in " \t\r\n":
        hint = ""
        probe = text[start + 4 : start + 40]
        others = [c for c in "*|~^!" if c in probe]
        if others:
            hint = f", but {others[0]!r} separates the other ISA elements"
        return _isa_error("x12.isa.element_separator",
                          f"invalid element separator {sep!r} after 'ISA'{hint}", "026", element=0)
    elements = ["ISA"]
    pos = start + 4
    current: list[str] = []
    wrapped = False
    limit = min(len(text), start + 400)
    while len(elements) < 16 and pos < limit:
        ch = text[pos]
        if ch == sep:
            elements.append("".join(current))
            current = []
        elif ch in NEWLINES:
            wrapped = True
        else:
            current.append(ch)
        pos += 1
    if len(elements) < 16:
        if pos >= len(text):
            return _isa_error("x12.isa.truncated", "file ends inside the ISA segment", "023")
        return _isa_error("x12.isa.short",
                          f"ISA has {len(elements) - 1} elements separated by {sep!r}, 16 are required",
                          "024")
    # ISA16: one character (skip line breaks when the file is wrapped)
    while pos < len(text) and text[pos] in NEWLINES and wrapped:
        pos += 1
    if pos >= len(text):
        return _isa_error("x12.isa.truncated", "file ends inside the ISA segment", "023")
    component = text[pos]
    pos += 1
    while wrapped and pos < len(text) and text[pos] in NEWLINES:
        pos += 1
    if pos >= len(text):
        return _isa_error("x12.isa.no_terminator", "file ends right after the ISA: no segment terminator",
                          "023")
    terminator = text[pos]
    pos += 1
    elements.append(component)
    issues: list[Issue] = []

    if terminator.isalnum() or terminator == " ":
        return _isa_error("x12.isa.terminator",
                          f"segment terminator after ISA16 is {terminator!r}, which is not a separator "
                          "(ISA16 must be exactly one character)", "004", element=16)
    if component.isalnum() or component == " ":
        return _isa_error("x12.isa.component_separator",
                          f"component separator ISA16 {component!r} is a letter, digit or space", "027",
                          element=16)
    isa11 = elements[11]
    version = elements[12]
    repetition: str | None = None
    if len(isa11) == 1 and not isa11.isalnum() and isa11 != " ":
        if version >= "00402" or not version.isdecimal():
            repetition = isa11
        elif allow_isa11_repetition_in_00401:
            repetition = isa11
            issues.append(warning("x12.isa.isa11_in_old_version",
                                  f"ISA11 is {isa11!r} (a repetition separator) in a {version} envelope, "
                                  "where it should be the standards identifier 'U'",
                                  level=Level.INTERCHANGE, segment="ISA", element=11, x12_code="015"))
        else:
            return _isa_error("x12.isa.isa11_in_old_version",
                              f"ISA11 {isa11!r} is not a valid standards identifier in version {version}",
                              "015", element=11)
    seps = [sep, component, terminator] + ([repetition] if repetition else [])
    if len(set(seps)) != len(seps):
        return _isa_error("x12.isa.separators_not_distinct",
                          f"separators are not distinct: element {sep!r}, component {component!r}, "
                          f"repetition {repetition!r}, segment {terminator!r}", "026")
    if wrapped and terminator in NEWLINES:
        return _isa_error("x12.isa.wrapped_newline_terminator",
                          "the ISA is broken across lines and the segment terminator is a line break: "
                          "segments cannot be told apart", "004")
    widths_ok = all(len(elements[i + 1]) == w for i, w in enumerate(ISA_ELEMENT_WIDTHS[:15]))
    if not widths_ok:
        bad = [i + 1 for i, w in enumerate(ISA_ELEMENT_WIDTHS[:15]) if len(elements[i + 1]) != w]
        msg = (f"ISA is not fixed-width: element(s) {', '.join(f'ISA{b:02d}' for b in bad)} "
               "have the wrong length")
        if allow_short_isa:
            issues.append(warning("x12.isa.not_fixed_width", msg, level=Level.INTERCHANGE, segment="ISA",
                                  element=bad[0], x12_code="024"))
        else:
            issues.append(error("x12.isa.not_fixed_width", msg, level=Level.INTERCHANGE, segment="ISA",
                                element=bad[0], x12_code="024"))
    if any(ord(c) > 126 for e in elements for c in e):
        issues.append(warning("x12.isa.non_ascii", "ISA contains non-ASCII characters "
                              "(for example no-break spaces as padding)", level=Level.INTERCHANGE,
                              segment="ISA"))
    if wrapped:
        issues.append(warning("x12.wrapped_lines", "line breaks inside segments (file wrapped at a fixed "
                              "width); they were removed", level=Level.INTERCHANGE))
    delimiters = Delimiters(element=sep, component=component, repetition=repetition, segment=terminator)
    return SniffedIsa(elements=elements, delimiters=delimiters, end=pos, wrapped=wrapped, issues=issues)
