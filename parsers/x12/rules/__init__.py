"""X12 validation rules as data (segment, code-list and structure tables) and the engine that applies them."""

from parsers.x12.rules.validate import check_segment, family, validate_segments

__all__ = ["check_segment", "family", "validate_segments"]
