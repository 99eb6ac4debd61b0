"""inbox/sources."""
