"""parsers/xml."""
