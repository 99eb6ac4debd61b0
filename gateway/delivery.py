"""The outbox worker: sends what the pipeline queued (acks, outbound documents, ERP deliveries), with retries.

Rules:
- A message is claimed with a lease, sent, then marked sent; a crash in between sends it again
  on the next claim, so every destination must be idempotent: files are written under a name
  fixed at queue time (temp + rename), webhooks get an ``Idempotency-Key`` header.
- A retryable failure is retried with exponential backoff; a permanent one, or running out of
  attempts, makes the message dead and raises an alert. One partner's failing transport never
  holds up another's messages.
- When every sink delivery of a document is sent, the document becomes ``delivered``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from gateway.config import GatewayConfig
from gateway.store import Store
from gateway.store.rows import OutboxRow
from outbound.senders.base import FolderSender, OutboundMessage, Sender, SendError, SendResult
from outbound.senders.durable import SyncPoint, fsync_path
from partners.directory import PartnerDirectory
from partners.profile import FolderTransport, PartnerProfile, SftpTransport

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600.0


def write_json_atomically(folder: Path, name: str, payload: bytes, *, sync_dir: bool = True) -> Path:
    """Write ``payload`` to folder/name via a temp file, fsync and rename (readers never see half a file).

    ``sync_dir=False`` leaves the folder's fsync to the caller (once for a batch of files, before
    any of them is recorded as delivered).
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.tmp"
    with tmp.open("wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    if sync_dir:
        fsync_path(folder)
    return target


class StagedFiles:
    """JSON sink files of one batch: written under temp names, then made durable and renamed together.

    Each folder's ``SyncPoint`` is opened before the first file is written into it (see durable.py).
    The same final name twice in one batch is written on its own, straight away.
    """

    def __init__(self) -> None:
        self.points: dict[Path, SyncPoint] = {}
        self.files: list[tuple[Path, Path]] = []  # (temp, final)
        self._finals: set[Path] = set()

    def write(self, folder: Path, name: str, payload: bytes) -> Path:
        """Write ``payload`` as folder/name's temp file (or the whole file, for a name seen before); its final path."""
        final = folder / name
        if final in self._finals:
            return write_json_atomically(folder, name, payload)
        folder.mkdir(parents=True, exist_ok=True)
        if folder not in self.points:
            self.points[folder] = SyncPoint(folder)
        tmp = folder / f".{name}.tmp"
        with tmp.open("wb") as fh:
            fh.write(payload)
        self.files.append((tmp, final))
        self._finals.add(final)
        return final

    def finish(self) -> None:
        """Make the temp files durable, rename them to their final names, make the renames durable."""
        try:
            for folder, point in self.points.items():
                point.sync([tmp for tmp, _ in self.files if tmp.parent == folder])
            for tmp, final in self.files:
                os.replace(tmp, final)
            for folder, point in self.points.items():
                point.sync([], [folder])
        finally:
            self.close()

    def discard(self) -> None:
        """Remove the temp files left after a failure."""
        for tmp, _ in self.files:
            tmp.unlink(missing_ok=True)
        self.close()

    def close(self) -> None:
        """Release the sync points."""
        for point in self.points.values():
            point.close()
        self.points.clear()


def sink_body(document_id: str, partner_id: str | None, kind: str, issues_json: str | None,
              canonical_json: str) -> bytes:
    """The JSON a sink receives for a document: ids, kind, validation issues and the canonical document."""
    return (f'{{"document_id": {json.dumps(document_id)}, "partner_id": {json.dumps(partner_id)}, '
            f'"kind": {json.dumps(kind)}, "issues": {issues_json or "[]"}, "document": {canonical_json}}}').encode()


class SinkError(Exception):
    """A delivery to the ERP side failed; ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def deliver_to_sink(destination: dict[str, Any], row: OutboxRow, payload: bytes, *,
                    http: httpx.Client | None = None, secret: str | None = None,
                    staged: StagedFiles | None = None) -> str:
    """Deliver one canonical document to a sink; returns where it went.

    With ``staged``, a JSON file is only written under its temp name: the caller makes the batch
    durable and renames it (``StagedFiles.finish``).
    """
    kind = destination.get("type")
    target = destination.get("target")
    if kind == "json_folder":
        name = f"{row.document_id or row.id}.json"
        folder = Path(str(target))
        if staged is None:
            return str(write_json_atomically(folder, name, payload))
        return str(staged.write(folder, name, payload))
    if kind == "webhook":
        headers = {"Content-Type": "application/json", "Idempotency-Key": row.idempotency_key,
                   "X-Gateway-Document-Id": row.document_id or ""}
        if secret:
            headers["X-Gateway-Signature"] = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        client = http or httpx.Client(timeout=15.0)
        try:
            response = client.post(str(target), content=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise SinkError(f"webhook {target} unreachable: {exc}", retryable=True) from None
        finally:
            if http is None:
                client.close()
        if response.status_code < 300:
            return f"{target} ({response.status_code})"
        retryable = response.status_code >= 500 or response.status_code in (408, 409, 425, 429)
        raise SinkError(f"webhook {target} answered {response.status_code}: {response.text[:200]}",
                        retryable=retryable)
    raise SinkError(f"unknown sink type {kind!r}", retryable=False)


SenderFactory = Callable[[PartnerProfile], Sender]


def default_sender_for(partner: PartnerProfile) -> Sender:
    """The Sender for a partner's outbound transport (folder, SFTP, AS2)."""
    transport = partner.outbound
    if transport is None:
        raise SendError(f"partner {partner.id} has no outbound transport configured", retryable=False,
                        kind="send.no_transport")
    if isinstance(transport, FolderTransport):
        transport.path.mkdir(parents=True, exist_ok=True)  # our own drop folder for the partner to collect
        return FolderSender(transport.path)
    if isinstance(transport, SftpTransport):
        from outbound.senders.sftp import SftpSender

        return SftpSender(transport)
    try:
        from outbound.senders.as2 import As2Sender  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - AS2 sending not installed
        raise SendError("AS2 sending is not available", retryable=False, kind="send.no_transport") from None
    return As2Sender.for_partner(partner)  # type: ignore[no-any-return,unused-ignore]


class DeliveryWorker:
    """Claims due outbox messages and sends them; one instance per gateway worker."""

    def __init__(self, cfg: GatewayConfig, store: Store, *, worker_id: str,
                 directory: PartnerDirectory | None = None, sender_for: SenderFactory = default_sender_for,
                 http: httpx.Client | None = None, kinds: tuple[str, ...] = ("ack", "sink", "document"),
                 max_parallel_partners: int = 16) -> None:
        self.cfg = cfg
        self.store = store
        self.worker_id = worker_id
        self.directory = directory or PartnerDirectory(cfg.partners)
        self.sender_for = sender_for
        self.http = http
        self.kinds = kinds
        self._senders: dict[str, Sender] = {}
        self._lock = threading.Lock()
        self._inflight: set[str] = set()  # partners with a send in progress
        self._max_parallel = max_parallel_partners
        self._pool = ThreadPoolExecutor(max_workers=max_parallel_partners, thread_name_prefix="deliver")
        # Called after an outbox row is marked sent (outbound documents: record the expected ack).
        self.on_sent: list[Callable[[OutboxRow], None]] = []

    def close(self) -> None:
        """Finish the sends in flight, then close the senders' connections (the worker stays usable)."""
        self._pool.shutdown(wait=True)
        # a fresh pool (threads start lazily), so the worker can run again after a stop
        self._pool = ThreadPoolExecutor(max_workers=self._max_parallel, thread_name_prefix="deliver")
        for sender in self._senders.values():
            try:
                sender.close()
            except Exception:  # closing must not fail the shutdown
                log.exception("closing sender failed")
        self._senders.clear()

    def _sender(self, partner: PartnerProfile) -> Sender:
        sender = self._senders.get(partner.id)
        if sender is None:
            sender = self.sender_for(partner)
            self._senders[partner.id] = sender
        return sender

    def run_once(self, limit: int = 64, *, wait: bool = True) -> int:
        """Send what is due now, each partner's messages in their own thread; returns how many were claimed.

        A partner whose endpoint hangs only holds up its own messages: while its sends are in flight,
        its further messages are not claimed, and every other partner's go out in parallel. With
        ``wait`` (tests, ``gateway ingest``) this returns once the claimed messages are settled.
        """
        with self._lock:
            busy = set(self._inflight)
        rows = self.store.claim_outbox(self.worker_id, limit, self.cfg.gateway.lease_seconds, kinds=self.kinds,
                                       exclude_partners=busy)
        groups: dict[str, list[OutboxRow]] = {}
        for row in rows:
            groups.setdefault(row.partner_id or "", []).append(row)
        futures = []
        for partner_id, group in groups.items():
            with self._lock:
                self._inflight.add(partner_id)
            futures.append(self._pool.submit(self._send_group, partner_id, group))
        if wait:
            for future in futures:
                future.result()
        return len(rows)

    def _send_group(self, partner_id: str, rows: list[OutboxRow]) -> None:
        """Send one partner's messages in order, then record the outcomes in one commit.

        No database lock is held during network I/O. A crash before the commit sends them again,
        which every destination tolerates (fixed file names, idempotency keys).
        """
        try:
            results = self._send_rows(rows)
            with self.store.transaction():
                for row, result in zip(rows, results, strict=True):
                    self._record(row, result)
        except Exception:
            log.exception("delivering %d message(s) for %s failed; they are retried when their lease ends",
                          len(rows), partner_id or "-")
        finally:
            with self._lock:
                self._inflight.discard(partner_id)

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Loop until ``stop`` is set."""
        try:
            while not stop.is_set():
                try:
                    handled = self.run_once(wait=False)
                except Exception:
                    log.exception("delivery loop failed")
                    handled = 0
                if not handled:
                    stop.wait(interval)
        finally:
            self.close()

    def _send_rows(self, rows: list[OutboxRow]) -> list[tuple[bool, str, bool]]:
        """Send one partner's messages; (ok, where-or-error, retryable) for each, in order.

        JSON sink files are written under temp names and made durable and renamed together before any
        result is returned (``StagedFiles``); transport messages go through the sender's ``send_many``.
        """
        staged = StagedFiles()
        try:
            return self._send_staged(rows, staged)
        finally:
            staged.close()

    def _send_staged(self, rows: list[OutboxRow], staged: StagedFiles) -> list[tuple[bool, str, bool]]:
        """``_send_rows`` with its staged JSON files."""
        results: list[tuple[bool, str, bool]] = [(False, "not sent", True)] * len(rows)
        staged_rows: list[int] = []
        transport: list[tuple[int, OutboundMessage]] = []
        for i, row in enumerate(rows):
            if row.kind == "sink":
                before = len(staged.files)
                results[i] = self._send_sink(row, staged)
                if len(staged.files) > before:
                    staged_rows.append(i)
                continue
            try:
                transport.append((i, self._message(row)))
            except SendError as exc:
                results[i] = (False, str(exc), exc.retryable)
        if transport:
            partner = self.directory.get(rows[transport[0][0]].partner_id)
            try:
                assert partner is not None  # _message checked it
                sent = self._sender(partner).send_many([message for _, message in transport])
            except SendError as exc:
                sent = [exc] * len(transport)
            except Exception as exc:  # a sender bug: retry, it may be transient
                log.exception("sending %d message(s) to %s failed", len(transport), rows[0].partner_id)
                sent = [SendError(f"{type(exc).__name__}: {exc}", retryable=True)] * len(transport)
            for (i, _), outcome in zip(transport, sent, strict=True):
                results[i] = ((True, outcome.destination, False) if isinstance(outcome, SendResult)
                              else (False, str(outcome), outcome.retryable))
        try:
            staged.finish()
        except OSError as exc:
            for i in staged_rows:
                results[i] = (False, f"writing the JSON sink files failed: {exc}", True)
            staged.discard()
        return results

    def _send_sink(self, row: OutboxRow, staged: StagedFiles) -> tuple[bool, str, bool]:
        """Deliver one document to its sink (a JSON file is staged for the caller to finish)."""
        partner = self.directory.get(row.partner_id)
        try:
            payload = self._payload(row)
            destination = json.loads(row.destination)
            secret = None
            if partner is not None and 0 <= destination.get("sink", -1) < len(partner.sinks):
                env = partner.sinks[destination["sink"]].secret_env
                secret = os.environ.get(env) if env else None
            return True, deliver_to_sink(destination, row, payload, http=self.http, secret=secret,
                                         staged=staged), False
        except SinkError as exc:
            return False, str(exc), exc.retryable
        except Exception as exc:  # a bug or the disk: retry, it may be transient
            log.exception("delivering outbox %s failed", row.id)
            return False, f"{type(exc).__name__}: {exc}", True

    def _message(self, row: OutboxRow) -> OutboundMessage:
        """The OutboundMessage for an ack or outbound document row (SendError when it cannot be sent)."""
        partner = self.directory.get(row.partner_id)
        if partner is None:
            raise SendError(f"partner {row.partner_id!r} is no longer configured", retryable=False)
        try:
            payload = self._payload(row)
        except Exception as exc:  # the archive or the store: retry, it may be transient
            log.exception("reading the payload of outbox %s failed", row.id)
            raise SendError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        meta = json.loads(row.destination) if row.destination.startswith("{") else {}
        filename = meta.get("filename") or f"{row.id}.x12"
        return OutboundMessage(partner.id, filename, payload, row.idempotency_key)

    def _payload(self, row: OutboxRow) -> bytes:
        """The bytes to send: archived with the message, or (sinks) built from the document row."""
        if row.kind != "sink" or row.payload is not None or row.payload_sha256 is not None:
            payload = self.store.outbox_payload(row)
            if payload is not None:
                return payload
        if row.kind == "sink" and row.document_id:
            fields = self.store.sink_fields(row.document_id)
            if fields is not None:
                doc_id, partner_id, kind, issues_json, canonical_json = fields
                if canonical_json is not None:
                    return sink_body(doc_id, partner_id, kind, issues_json, canonical_json)
        return b""

    def _record(self, row: OutboxRow, result: tuple[bool, str, bool]) -> None:
        """Record a send's outcome: sent (and the document delivered), or failed / dead."""
        ok, text, retryable = result
        if not ok:
            self._failed(row, self.directory.get(row.partner_id), text, retryable)
            return
        if self.store.mark_sent(row.id, worker=self.worker_id, detail={"to": text}):
            for hook in self.on_sent:  # idempotent (expected acks); a periodic sweep redoes a missed one
                try:
                    hook(row)
                except Exception:
                    log.exception("after-send hook failed for outbox %s", row.id)
        if row.kind == "sink" and row.document_id:
            self._maybe_delivered(row.document_id)

    def _maybe_delivered(self, document_id: str) -> None:
        """Mark a document delivered once every one of its sink deliveries is sent."""
        total, unsent = self.store.sink_deliveries(document_id)
        if total and not unsent:
            self.store.set_document_state(document_id, "delivered", expect="acknowledged",
                                          detail={"sinks": total})

    def _failed(self, row: OutboxRow, partner: PartnerProfile | None, error: str, retryable: bool) -> None:
        attempts = row.attempts
        max_attempts = self.cfg.gateway.max_attempts
        if partner is not None and row.kind == "sink" and row.destination.startswith("{"):
            n = json.loads(row.destination).get("sink", -1)
            if 0 <= n < len(partner.sinks):
                max_attempts = partner.sinks[n].max_attempts
        if not retryable or attempts >= max_attempts:
            self.store.mark_dead(row.id, error, worker=self.worker_id)
            what = {"ack": "acknowledgment", "sink": "ERP delivery", "document": "outbound document"}.get(
                row.kind, row.kind)
            trace = row.document_id or row.id
            self.store.add_alert(
                f"{row.kind}.dead", f"{what.capitalize()} to {row.partner_id} is dead after {attempts} attempt(s)",
                f"The {what} (outbox {row.id}) for partner {row.partner_id} could not be sent: {error}.\n"
                f"Attempts: {attempts}. It will not be retried. Trace: gateway trace {trace}\n"
                "What to do: fix the transport or the destination, then `gateway replay` the document.",
                partner_id=row.partner_id, dedup_key=f"dead:{row.id}")
            return
        delay = min(MAX_BACKOFF_SECONDS, self.cfg.gateway.retry_base_seconds * (2 ** max(0, attempts - 1)))
        retry_at = self.store.now() + dt.timedelta(seconds=delay)
        self.store.mark_failed(row.id, error, retry_at, worker=self.worker_id)
        if attempts >= 3:
            self.store.add_alert(f"{row.kind}.failing", f"Sending to {row.partner_id} keeps failing",
                                 f"Outbox {row.id} ({row.kind}) for {row.partner_id} failed {attempts} times: "
                                 f"{error}. Next attempt at {retry_at.isoformat()}.", partner_id=row.partner_id,
                                 dedup_key=f"failing:{row.partner_id}:{row.kind}")
