"""parsers/csv."""
