"""A separate worker process for the store's multi-process tests (run with the venv's python).

Usage: store_worker.py MODE URL ARCHIVE_ROOT NAME GO_FILE [N]
Prints "ready", waits until GO_FILE exists, then:
- claim: claims files 7 at a time (holding every lease) until none are left; prints the ids.
- numbers: allocates N control numbers; prints them.
Output is one JSON list on the last line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from gateway.store import Store


def main(argv: list[str]) -> None:
    """Run one worker as described in the module docstring."""
    mode, url, archive_root, name, go_file = argv[:5]
    count = int(argv[5]) if len(argv) > 5 else 0
    with Store.open(url, Path(archive_root), migrate=False) as store:
        print("ready", flush=True)
        while not Path(go_file).exists():
            time.sleep(0.005)
        out: list[object] = []
        if mode == "claim":
            while len(out) <= 1000 and (rows := store.claim_files(name, 7, 300)):
                out.extend(row.id for row in rows)
        elif mode == "numbers":
            out = [store.next_control_number("acme", "out", "isa") for _ in range(count)]
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
