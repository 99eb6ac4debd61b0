"""outbound/writers."""
