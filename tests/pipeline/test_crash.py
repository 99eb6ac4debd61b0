"""Crash test: a real `gateway run` daemon, SIGKILLed at random moments and restarted, ends with every file
processed exactly once, every document delivered once and every functional group acknowledged once.

Also: two `gateway run` workers on one PostgreSQL store watching one inbox never handle a document twice.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.store import Store
from gateway.store.schema import files as files_table
from gateway.store.schema import outbox as outbox_table

from .conftest import Daemon, gateway_store_url, open_store
from .support import (
    Batch,
    GatewayLayout,
    acknowledged_groups,
    drop,
    make_batch,
    read_ack_files,
    sink_documents,
    temp_files,
    wait_for,
    write_gateway_config,
)

FILES = 2000
KILLS = 6
FINAL_STATES = {"processed", "rejected", "duplicate", "dead"}


def _progress(store: Store) -> tuple[int, int, int]:
    """(files landed, files done, outbox messages sent): moves forward while a gateway works."""
    files = store.counts_by_partner_and_state("files")
    landed = sum(c for _, _, c in files)
    done = sum(c for _, s, c in files if s in FINAL_STATES)
    with store.engine.connect() as conn:
        sent = conn.scalar(select(func.count()).select_from(outbox_table).where(outbox_table.c.state == "sent"))
    return landed, done, int(sent or 0)


def _unsent(store: Store) -> int:
    """Outbox messages not sent yet."""
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(outbox_table)
                               .where(outbox_table.c.state.in_(("pending", "failed")))) or 0)


def _busy(store: Store) -> bool:
    """True while landed files wait to be processed or messages wait to be sent."""
    landed, done, _ = _progress(store)
    return landed > done or _unsent(store) > 0


def _finished(store: Store, layout: GatewayLayout, batch: Batch) -> bool:
    """Every file landed and finished, nothing left to send, nothing left in the inbox."""
    landed, done, _ = _progress(store)
    if landed < len(batch.files) or done < landed:
        return False
    if _unsent(store):
        return False
    return not [n for n in os.listdir(layout.inbox()) if not n.startswith(".")]


def _feed(layout: GatewayLayout, batch: Batch, names: list[str], stop: threading.Event) -> None:
    """Drop files into the inbox in small bursts, as a partner's job would."""
    for start in range(0, len(names), 25):
        if stop.is_set():
            return
        for name in names[start:start + 25]:
            drop(layout.inbox(), name, batch.files[name])
        time.sleep(0.05)


def _inbox_waiting(layout: GatewayLayout) -> bool:
    """True while files sit in the inbox, not landed yet."""
    return any(not n.startswith(".") for n in os.listdir(layout.inbox()))


def _assert_exactly_once(store: Store, layout: GatewayLayout, batch: Batch) -> None:
    """The ledger, the sink and the outbound folder each hold every item exactly once."""
    files = store.find_files(limit=1_000_000)
    names = Counter(f.filename for f in files)
    assert sorted(names) == sorted(batch.files), "ledger files differ from the files dropped"
    assert [n for n, c in names.items() if c > 1] == [], "a file was landed twice"
    assert len({(f.transport, f.transport_id) for f in files}) == len(files)
    assert Counter(f.state for f in files) == {"processed": len(batch.files)}
    assert [n for n in os.listdir(layout.inbox()) if not n.startswith(".")] == []
    assert sorted(os.listdir(layout.done())) == sorted(batch.files), "done folder differs from the files dropped"

    docs = [d for f in files for d in store.documents_for_file(f.id)]
    assert Counter(d.state for d in docs) == {"delivered": len(batch.po_numbers)}
    delivered = sink_documents(layout.erp)
    po_numbers = Counter(d["document"]["po_number"] for d in delivered)
    assert [p for p, c in po_numbers.items() if c > 1] == [], "a purchase order was delivered twice"
    assert set(po_numbers) == batch.po_numbers
    assert len(delivered) == len(batch.po_numbers)
    assert {d["document_id"] for d in delivered} == {d.id for d in docs}

    acks = read_ack_files(layout.outbox())
    # FolderSender writes under a fixed temp name: a write killed midway is redone under the same name.
    assert temp_files(layout.outbox()) == [], "a killed writer left a temp file behind"
    assert [(a.path.name, a.issues) for a in acks if a.issues] == []
    assert len(acks) == len(batch.files), "one 997 interchange per inbound interchange"
    groups = Counter(acknowledged_groups(acks))
    assert [g for g, c in groups.items() if c > 1] == [], "a functional group was acknowledged twice"
    assert set(groups) == batch.group_numbers
    isa13s = Counter(a.isa13 for a in acks)
    assert [n for n, c in isa13s.items() if c > 1] == [], "an ISA13 we sent was used twice"
    assert sorted(int(n) for n in isa13s) == list(range(1, len(acks) + 1)), "ISA13s we sent have gaps"
    outbox = store.find_outbox(limit=1_000_000)
    assert Counter((m.kind, m.state) for m in outbox) == {("ack", "sent"): len(batch.files),
                                                           ("sink", "sent"): len(batch.po_numbers)}


@pytest.mark.slow
def test_kill_minus_9_at_random_moments_then_restart_processes_everything_exactly_once(
        layout: GatewayLayout, daemons: Callable[[GatewayLayout, str], Daemon]) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"crash test seed {seed} (CRASH_SEED={seed} repeats it)")
    batch = make_batch(FILES)
    names = sorted(batch.files)
    for name in names[: FILES // 4]:  # a quarter is waiting before the first start ...
        drop(layout.inbox(), name, batch.files[name])
    # ... the rest arrives in one burst per (re)start, so every run has work in flight to be killed in; there
    # is a burst for every start allowed (3 * KILLS), so a fast gateway never runs out of work to be killed in
    rest = names[FILES // 4:]
    step = -(-len(rest) // (3 * KILLS))
    bursts = [rest[i:i + step] for i in range(0, len(rest), step)]
    stop_feed = threading.Event()
    feeders: list[threading.Thread] = []
    daemon = daemons(layout, "crashy")
    started = time.monotonic()
    with open_store(layout) as store:
        try:
            kills = 0
            while kills < KILLS:
                assert bursts, f"every burst was handled before {KILLS} kills caught work in flight ({kills} did)"
                before = _progress(store)
                daemon.start()
                feeders.append(threading.Thread(target=_feed, args=(layout, batch, bursts.pop(0), stop_feed),
                                                daemon=True))
                feeders[-1].start()
                wait_for(lambda before=before: _progress(store) != before or not daemon.running(), 30,
                         "the daemon to make progress")
                assert daemon.running(), daemon.output()[-3000:]
                time.sleep(rng.uniform(0.0, 0.3))  # somewhere in landing, parsing, acking or delivering
                busy = _busy(store) or _inbox_waiting(layout)
                daemon.kill()
                progress = _progress(store)
                print(f"kill {daemon.starts} at {time.monotonic() - started:.1f}s: files landed/done, sent {progress}")
                assert daemon.starts < 3 * KILLS, "the gateway finished before it could be killed mid-work"
                kills += busy  # files or messages were in flight: a real crash, not a stop while idle
            daemon.start()
            for feeder in feeders:
                feeder.join(timeout=60)
            for name in [n for burst in bursts for n in burst]:  # bursts not needed for the kills arrive now
                drop(layout.inbox(), name, batch.files[name])
            wait_for(lambda: _finished(store, layout, batch), 150, "every file to be processed and sent")
            assert daemon.terminate() == 0, daemon.output()[-3000:]
        finally:
            stop_feed.set()
        print(f"crash test: {FILES} files, {daemon.starts - 1} kills, {time.monotonic() - started:.1f}s")
        _assert_exactly_once(store, layout, batch)
        assert "Traceback" not in daemon.output(), daemon.output()[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("store_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_workers_on_one_postgresql_store_and_one_inbox_never_handle_a_document_twice(
        tmp_path: Path, store_url: str, daemons: Callable[[GatewayLayout, str], Daemon]) -> None:
    # A long lease: nobody crashes here, so a file claimed twice would be a real double handling.
    layout = write_gateway_config(tmp_path / "gw", gateway_store_url(store_url), gateway={"lease_seconds": 60.0})
    batch = make_batch(FILES)
    workers = [daemons(layout, "worker-a"), daemons(layout, "worker-b")]
    seen_claims: Counter[str] = Counter()
    with open_store(layout) as store:
        for w in workers:
            w.start()
        for name in sorted(batch.files):
            drop(layout.inbox(), name, batch.files[name])

        def finished() -> bool:
            with store.engine.connect() as conn:  # who holds leases right now: both workers must take part
                for table in (files_table, outbox_table):
                    query = select(table.c.claimed_by).where(table.c.claimed_by.is_not(None)).distinct()
                    seen_claims.update(conn.scalars(query))
            return _finished(store, layout, batch)

        wait_for(finished, 180, "both workers to process every file", interval=0.2)
        assert [w.terminate() for w in workers] == [0, 0]
        _assert_exactly_once(store, layout, batch)
        # each worker claims under its own id (deliveries) and its pipeline process's id ("<worker>/pipeline")
        assert {c.split("/")[0] for c in seen_claims} == {"worker-a", "worker-b"}, seen_claims
        # Each file and each message was claimed once: by one worker, one time.
        files = store.find_files(limit=1_000_000)
        assert Counter(f.attempts for f in files) == {1: FILES}
        outbox = store.find_outbox(limit=1_000_000)
        assert Counter(m.attempts for m in outbox) == {1: len(outbox)}
        # No document changed state twice the same way (a second worker's compare-and-set would be refused,
        # but it would still have recorded an attempt above).
        for f in files[:200]:
            events = Counter((e["document_id"], e["state_to"]) for e in store.history(f.id) if e["document_id"])
            assert [k for k, c in events.items() if c > 1] == []
        alerts = [a.subject for a in store.pending_alerts(limit=1000)]
        assert alerts == [], alerts
    for w in workers:
        assert "Traceback" not in w.output(), w.output()[-3000:]


def test_the_exactly_once_checks_catch_a_second_delivery_and_a_second_ack(
        layout: GatewayLayout, open_gateway: Any) -> None:
    """The crash tests' assertions can fail: a document delivered twice or a group acked twice is caught."""
    import shutil

    batch = make_batch(12, two_groups_every=4)
    for name, data in batch.files.items():
        drop(layout.inbox(), name, data)
    gw = open_gateway(layout)
    [watcher] = [w for w in gw.folder_watchers() if w.partner_id == "acme-retail"]
    watcher.stable_seconds = 0.0
    assert watcher.scan_once() == 12
    gw.drain()
    _assert_exactly_once(gw.store, layout, batch)  # the honest run passes

    [first_ack, *_] = sorted(layout.outbox().iterdir())
    shutil.copy(first_ack, layout.outbox() / "resent_997.x12")
    with pytest.raises(AssertionError, match=r"997|acknowledged twice"):
        _assert_exactly_once(gw.store, layout, batch)
    (layout.outbox() / "resent_997.x12").unlink()

    [first_doc, *_] = sorted(layout.erp.iterdir())
    shutil.copy(first_doc, layout.erp / "01ZZZZZZZZZZZZZZZZZZZZZZZZ.json")
    with pytest.raises(AssertionError, match="delivered twice"):
        _assert_exactly_once(gw.store, layout, batch)
