"""parsers/x12."""
