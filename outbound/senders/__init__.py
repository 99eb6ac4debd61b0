"""outbound/senders."""
