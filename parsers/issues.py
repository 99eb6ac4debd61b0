"""Validation issues and the parser's own error type.

Every problem a parser finds is an ``Issue``: a severity, a stable dotted ``code`` of ours, a
message in words, where it is (segment id, segment position, element position) and, for X12,
the standard's code that an acknowledgment will carry (AK3/AK4/AK5/AK9, IK3/IK4/IK5, TA1 note).

``ParseError`` is the only exception a parser raises for bad input; anything else escaping a
parser is a bug in the parser, not a problem with the partner's file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad an issue is: errors reject the document, warnings only flag it."""

    ERROR = "error"
    WARNING = "warning"


class Level(StrEnum):
    """Which envelope level an issue belongs to, which decides the acknowledgment it feeds."""

    FILE = "file"
    INTERCHANGE = "interchange"  # TA1
    GROUP = "group"  # AK9 / AK905..
    TRANSACTION = "transaction"  # AK5 / IK5
    SEGMENT = "segment"  # AK3 / IK3
    ELEMENT = "element"  # AK4 / IK4


@dataclass(slots=True)
class Issue:
    """One problem found in a document, with enough location to point the partner at it."""

    severity: Severity
    code: str
    message: str
    level: Level = Level.FILE
    segment: str | None = None  # segment id, e.g. "BEG"
    position: int | None = None  # segment position: within the transaction set (ST = 1) when set
    element: int | None = None  # element position, 1-based
    component: int | None = None  # component position, 1-based
    x12_code: str | None = None  # the standard's code for the ack (AK304/AK403/AK502/AK905/TA105)
    value: str | None = None  # the offending value, when short enough to echo
    reference_number: str | None = None  # X12 data element reference number (AK402)
    loop_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        """True when this issue rejects what it is attached to."""
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``issues`` entries of ``gateway translate``)."""
        data = asdict(self)
        data["severity"] = self.severity.value
        data["level"] = self.level.value
        if not self.extra:
            del data["extra"]
        return {k: v for k, v in data.items() if v is not None}


def error(code: str, message: str, **where: Any) -> Issue:
    """Shorthand for an error issue."""
    return Issue(Severity.ERROR, code, message, **where)


def warning(code: str, message: str, **where: Any) -> Issue:
    """Shorthand for a warning issue."""
    return Issue(Severity.WARNING, code, message, **where)


class ParseError(Exception):
    """Raised by a parser when input cannot be read at all; carries the issue that says why."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue

    @classmethod
    def of(cls, code: str, message: str, **where: Any) -> ParseError:
        """Build a ParseError from an error issue's fields."""
        return cls(error(code, message, **where))
