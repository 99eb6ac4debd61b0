"""Sortable unique ids for ledger rows (ULID layout: 48-bit milliseconds + 80 random bits).

Ids made later in one process sort after earlier ones, even within the same millisecond; ids made
by different workers sort by time to the millisecond. 26 characters, Crockford base32.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, random part) of the previous id made in this process


def new_id() -> str:
    """A new 26-character id that sorts by creation time."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_random = _last
        if millis <= last_millis:  # same millisecond (or the clock stepped back): count up
            millis, rand = last_millis, last_random + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for counting up
        _last = (millis, rand)
    value = (millis << 80) | (rand & ((1 << 80) - 1))
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
