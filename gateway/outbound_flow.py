"""Outbound documents: canonical ship notices and invoices from our ERP (or routed from a 3PL) -> X12 to a partner.

Rules (each step is durable before the next and safe to repeat after a crash):
1. What we send starts as a landed file (transport ``outbound``, state ``outbound``): the ERP's JSON or
   CSV as it was dropped, or the canonical JSON the router built. Landing and leaving ``received``
   happen in one transaction, so the inbound pipeline never claims an outbound file.
2. Each document becomes a ledger row (direction ``out``) keyed by (file, position): a re-run finds
   the row and does nothing new.
3. The same shipment id / invoice number with the same content is never sent twice: a business
   dedup key ``out:<kind>:<number>:<content hash>`` per partner; a repeat is recorded ``duplicate``.
4. A document that cannot be written as valid X12 is ``rejected`` with the writer's reason before any
   control number is used (a trial write), so control numbers have no gaps.
5. Control numbers come from ``allocate_control_numbers`` under a key fixed per document; the X12
   bytes go to the outbox (kind ``document``) under the partner transport's ``filename_template``.
6. When the delivery worker marks the message sent, the document becomes ``sent`` and an expected
   acknowledgment is recorded (due after the partner's ``acks.expect_ack_within_hours``).

Document states: new -> queued -> sent -> accepted | rejected | overdue (and duplicate, rejected).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from gateway.config import GatewayConfig
from gateway.pipeline import canonical_hash
from gateway.store import Store
from gateway.store.rows import OutboxRow
from inbox.base import RawDocument
from outbound.writers import WriterError, X12Envelope, write_invoice, write_ship_notice
from parsers.canonical import Invoice, ShipNotice
from parsers.translate import sniff_format, translate_csv
from partners.directory import PartnerDirectory
from partners.profile import PartnerProfile

log = logging.getLogger(__name__)

OutboundDocument = ShipNotice | Invoice
FILE_STATE = "outbound"  # files we send from: never claimed by the inbound pipeline
_ADAPTER: TypeAdapter[ShipNotice | Invoice] = TypeAdapter(ShipNotice | Invoice)

# kind -> (ST01, GS01, X12 writer)
_SETS: dict[str, tuple[str, str]] = {"ship_notice": ("856", "SH"), "invoice": ("810", "IN")}
_WHAT = {"ship_notice": "ship notice", "invoice": "invoice"}


class OutboundError(Exception):
    """What we were asked to send cannot be sent as it is; the message says why, in words."""


@dataclass
class SendOutcome:
    """What happened to one outbound document (for the CLI, the router and tests)."""

    document_id: str | None
    partner_id: str
    kind: str
    business_key: str | None
    state: str  # queued | duplicate | rejected | sent | accepted ... (when it was handled before)
    outbox_id: str | None = None
    isa13: str | None = None
    gs06: str | None = None
    st02: str | None = None
    filename: str | None = None
    message: str | None = None
    duplicate_of: str | None = None

    def line(self) -> str:
        """One line for a terminal."""
        env = f"ISA13 {self.isa13} GS06 {self.gs06} ST02 {self.st02}" if self.isa13 else ""
        parts = [self.document_id or "-", self.partner_id, f"{self.kind} {self.business_key or ''}".strip(),
                 self.state, env, self.filename or "", f"({self.message})" if self.message else ""]
        return "  ".join(p for p in parts if p)


@dataclass
class FileSendResult:
    """The outcome of sending one ERP file: its trace id and one outcome per document (or the problem)."""

    file_id: str | None
    outcomes: list[SendOutcome] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file was read and no document in it was rejected."""
        return self.problem is None and all(o.state != "rejected" for o in self.outcomes)


def read_outbound_documents(data: bytes, *, name: str, partner: PartnerProfile) -> list[OutboundDocument]:
    """The ship notices / invoices in an ERP file: canonical JSON (one, a list, or {"documents": [...]}),
    or CSV with the partner's mapping. Raises OutboundError saying what is wrong."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        try:
            raw = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OutboundError(f"{name}: not valid JSON: {exc}") from None
        items = raw.get("documents") if isinstance(raw, dict) and "documents" in raw else raw
        items = items if isinstance(items, list) else [items]
        if not items:
            raise OutboundError(f"{name}: no documents in the file")
        docs: list[OutboundDocument] = []
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict) or item.get("kind") not in _SETS:
                kind = item.get("kind") if isinstance(item, dict) else type(item).__name__
                raise OutboundError(f"{name}: document {n} has kind {kind!r}; we send 'ship_notice' or 'invoice'")
            try:
                docs.append(_ADAPTER.validate_python(item))
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or '(document)'}: {e['msg']}"
                                     for e in exc.errors()[:5])
                raise OutboundError(f"{name}: document {n} is not a valid {item['kind']}: {problems}") from None
        return docs
    if partner.csv is not None and sniff_format(text[:4096], csv_mapping=partner.csv) == "csv":
        docs = []
        for t in translate_csv(data, name=name, mapping=partner.csv):
            errors = [i.message for i in t.issues if i.is_error]
            if t.document is None or errors:
                raise OutboundError(f"{name}: {'; '.join(errors[:3]) or 'no document'}")
            if not isinstance(t.document, ShipNotice | Invoice):
                raise OutboundError(f"{name}: the CSV holds a {t.kind}; we send ship notices and invoices")
            docs.append(t.document)
        return docs
    raise OutboundError(f"{name}: neither canonical JSON nor a CSV file for {partner.id}'s mapping"
                        + ("" if partner.csv else " (the partner has no [csv] mapping)"))


def outbound_filename(partner: PartnerProfile, st01: str, isa13: int, business_key: str) -> str:
    """The file name for an outbound interchange from the partner transport's ``filename_template``."""
    template = getattr(partner.outbound, "filename_template", None) or "{partner}_{kind}_{control_number}.{ext}"
    safe_key = "".join(c if c.isalnum() or c in "-_" else "_" for c in business_key)[:60]
    try:
        return template.format(partner=partner.id, kind=st01, control_number=f"{isa13:09d}", ext="x12",
                               business_key=safe_key)
    except (KeyError, IndexError, ValueError) as exc:
        raise OutboundError(f"partner {partner.id}: filename_template {template!r} is not usable ({exc!r}); "
                            "it may use {partner}, {kind}, {control_number}, {ext} and {business_key}") from None


class OutboundFlow:
    """Turns canonical outbound documents into queued X12 interchanges and tracks them until acknowledged."""

    def __init__(self, cfg: GatewayConfig, store: Store, directory: PartnerDirectory | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.directory = directory or PartnerDirectory(cfg.partners)

    # ------------------------------------------------------------------ landing

    def land(self, body: bytes, *, filename: str, transport_id: str, partner_id: str,
             metadata: dict[str, str] | None = None) -> str:
        """Archive what we send from and record it as an outbound file (never seen by the inbound pipeline)."""
        raw = RawDocument(transport="outbound", transport_id=transport_id, filename=filename,
                          received_at=self.store.now(), body=body, partner_hint=partner_id,
                          metadata=metadata or {})
        with self.store.transaction():
            receipt = self.store.land(raw)
            row = self.store.get_file(receipt.file_id)
            if row is not None and row.state == "received":
                self.store.set_file_state(receipt.file_id, FILE_STATE, detail={"direction": "out"})
                self.store.set_file_partner(receipt.file_id, partner_id)
        return receipt.file_id

    def send_file(self, path: Path, partner_id: str) -> FileSendResult:
        """Land an ERP file for a partner and queue each document in it (idempotent per path+size+mtime)."""
        partner = self.directory.get(partner_id)
        if partner is None:
            return FileSendResult(None, problem=f"no partner {partner_id!r} is configured")
        try:
            st = path.stat()
            body = path.read_bytes()
        except OSError as exc:
            return FileSendResult(None, problem=f"cannot read {path}: {exc.strerror or exc}")
        file_id = self.land(body, filename=path.name, transport_id=f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}",
                            partner_id=partner.id, metadata={"source": str(path)})
        try:
            docs = read_outbound_documents(body, name=path.name, partner=partner)
        except OutboundError as exc:
            self.store.add_alert("outbound.unreadable", f"Could not read outbound file {path.name} for {partner.id}",
                                 f"The ERP file {path.name} for partner {partner.id} was not sent: {exc}.\n"
                                 f"Trace: gateway trace {file_id}\nWhat to do: fix the file and drop it again.",
                                 partner_id=partner.id, dedup_key=f"outbound.unreadable:{file_id}")
            self.store.set_file_state(file_id, "rejected", expect=FILE_STATE, detail={"reason": str(exc)})
            return FileSendResult(file_id, problem=str(exc))
        return FileSendResult(file_id, self.send_documents(partner, file_id, docs))

    # ------------------------------------------------------------------ documents

    def send_documents(self, partner: PartnerProfile, file_id: str, documents: Sequence[OutboundDocument], *,
                       parent_id: str | None = None) -> list[SendOutcome]:
        """Record, dedup, write and queue each document of an outbound file (safe to repeat)."""
        outcomes: list[SendOutcome] = []
        seen: dict[str, str] = {}
        for seq, doc in enumerate(documents, 1):
            with self.store.transaction():
                outcomes.append(self._send_one(partner, file_id, seq, doc, parent_id, seen))
        return outcomes

    def _envelope(self, partner: PartnerProfile, isa13: int, gs06: int, when: dt.datetime) -> X12Envelope:
        if partner.x12 is None:
            raise OutboundError(f"partner {partner.id} has no X12 identity ([x12] id) to address the interchange to")
        return X12Envelope(sender=self.cfg.identity, receiver=partner.x12, version=partner.version,
                           delimiters=partner.delimiters, isa13=isa13, gs06=gs06, date=when.date(),
                           time=when.time().replace(second=0, microsecond=0), usage=partner.usage_indicator)

    @staticmethod
    def _write(doc: OutboundDocument, partner: PartnerProfile, envelope: X12Envelope, st02: int) -> bytes:
        if isinstance(doc, ShipNotice):
            return write_ship_notice(doc, envelope, st02, structure=partner.hl_structure)
        return write_invoice(doc, envelope, st02)

    def _send_one(self, partner: PartnerProfile, file_id: str, seq: int, doc: OutboundDocument,
                  parent_id: str | None, seen: dict[str, str]) -> SendOutcome:
        kind = doc.kind
        st01, gs01 = _SETS[kind]
        business_key = doc.business_key
        content_hash = canonical_hash(doc)
        outcome = SendOutcome(None, partner.id, kind, business_key, "new")
        existing = [d for d in self.store.documents_for_file(file_id) if d.seq == seq]
        if existing and existing[0].state != "new":  # handled before a crash or a re-run: report it as it is
            d = existing[0]
            outcome.document_id, outcome.state = d.id, d.state
            outcome.isa13, outcome.gs06, outcome.st02 = d.isa13, d.gs06, d.st02
            outcome.duplicate_of = d.duplicate_of
            rows = self.store.find_outbox(kind="document", document_id=d.id)
            if rows:
                outcome.outbox_id = rows[0].id
                outcome.filename = json.loads(rows[0].destination).get("filename")
            return outcome
        common: dict[str, Any] = dict(kind=kind, direction="out", partner_id=partner.id, business_key=business_key,
                                      purpose_code=getattr(doc, "purpose_code", None), content_hash=content_hash,
                                      parent_id=parent_id, canonical_json=doc.model_dump_json(exclude_none=True),
                                      gs01=gs01, st01=st01, version=partner.version,
                                      sender_id=self.cfg.identity.id,
                                      receiver_id=partner.x12.id if partner.x12 else None)
        now = self.store.now()
        # 1. a trial write with placeholder numbers: bad data is refused before a control number is used
        try:
            if partner.outbound is None:
                raise OutboundError(f"partner {partner.id} has no outbound transport configured")
            self._write(doc, partner, self._envelope(partner, 1, 1, now), 1)
            outbound_filename(partner, st01, 1, business_key)
        except (WriterError, OutboundError) as exc:
            return self._reject(partner, file_id, seq, doc, common, str(exc), outcome)
        # 2. business dedup: the same number with the same content goes out once
        key = f"out:{kind}:{business_key}:{content_hash}"
        original_file = self.store.claim_dedup_key(partner.id, "business", key, file_id=file_id,
                                                   window_days=partner.dedup.window_days)
        original_doc: str | None = seen.get(key)
        if original_file is not None:
            matches = [d for d in self.store.documents_for_file(original_file)
                       if d.kind == kind and d.business_key == business_key and d.content_hash == content_hash]
            original_doc = matches[0].id if matches else None
        if original_file is not None or original_doc is not None:
            doc_id = self.store.add_document(file_id, seq, state="new", **common)
            self.store.set_document_state(doc_id, "duplicate", expect="new", duplicate_of=original_doc,
                                          detail={"layer": "business", "duplicate_of": original_doc or original_file})
            outcome.document_id, outcome.state, outcome.duplicate_of = doc_id, "duplicate", original_doc
            outcome.message = f"already sent as document {original_doc or original_file}; not sent again"
            return outcome
        # 3. control numbers (once per document), the real write, the outbox
        numbers = self.store.allocate_control_numbers(partner.id, "out", f"outdoc:{file_id}:{seq}", sets=1)
        isa13, gs06, st02 = f"{numbers.isa13:09d}", str(numbers.gs06), f"{numbers.st_numbers[0]:04d}"
        created = existing[0].created_at if existing else now
        payload = self._write(doc, partner, self._envelope(partner, numbers.isa13, numbers.gs06, created),
                              numbers.st_numbers[0])
        filename = outbound_filename(partner, st01, numbers.isa13, business_key)
        doc_id = self.store.add_document(file_id, seq, state="new", isa13=isa13, gs06=gs06, st02=st02, **common)
        seen[key] = doc_id
        destination = json.dumps({"filename": filename, "kind": st01, "isa13": isa13})
        outbox_id = self.store.enqueue("document", partner.id, destination, f"document:{doc_id}", payload,
                                       document_id=doc_id)
        self.store.set_document_state(doc_id, "queued", expect="new",
                                      detail={"filename": filename, "isa13": isa13, "gs06": gs06, "st02": st02,
                                              "outbox_id": outbox_id})
        outcome.document_id, outcome.state, outcome.outbox_id, outcome.filename = doc_id, "queued", outbox_id, filename
        outcome.isa13, outcome.gs06, outcome.st02 = isa13, gs06, st02
        return outcome

    def _reject(self, partner: PartnerProfile, file_id: str, seq: int, doc: OutboundDocument,
                common: dict[str, Any], reason: str, outcome: SendOutcome) -> SendOutcome:
        """Record an outbound document we cannot write, and tell ops what to fix."""
        issues = json.dumps([{"severity": "error", "code": "outbound.unwritable", "message": reason}])
        doc_id = self.store.add_document(file_id, seq, state="new", issues_json=issues, **common)
        self.store.set_document_state(doc_id, "rejected", expect="new", detail={"reason": reason})
        what = f"{_WHAT[doc.kind]} {doc.business_key}"
        self.store.add_alert(
            "outbound.rejected", f"Could not send {what} to {partner.id}",
            f"Our {what} for partner {partner.id} was not sent: {reason}.\n"
            f"Trace: gateway trace {doc_id}\n"
            "What to do: correct the document in the ERP (or the partner's profile) and send it again.",
            partner_id=partner.id, dedup_key=f"outbound.rejected:{doc_id}")
        outcome.document_id, outcome.state, outcome.message = doc_id, "rejected", reason
        return outcome

    # ------------------------------------------------------------------ after sending

    def after_sent(self, row: OutboxRow) -> None:
        """Delivery hook: an outbound document went out; expect its acknowledgment (idempotent)."""
        if row.kind != "document" or row.document_id is None:
            return
        doc = self.store.get_document(row.document_id)
        if doc is None or doc.direction != "out" or doc.state != "queued":
            return
        partner = self.directory.get(doc.partner_id)
        sent_at = row.sent_at or self.store.now()
        hours = partner.acks.expect_ack_within_hours if partner is not None else 24.0
        with self.store.transaction():
            if hours > 0 and doc.isa13 and doc.gs06 and doc.st02 and doc.partner_id:
                self.store.expect_ack(doc.partner_id, doc.isa13, doc.gs06, doc.st02, document_id=doc.id,
                                      sent_at=sent_at, due_at=sent_at + dt.timedelta(hours=hours))
            self.store.set_document_state(doc.id, "sent", expect="queued",
                                          detail={"outbox_id": row.id, "ack_due_hours": hours})

    def sweep_sent(self, limit: int = 500) -> int:
        """Redo ``after_sent`` for documents whose message went out but whose hook did not run (a crash)."""
        done = 0
        for doc in self.store.find_documents(state="queued", direction="out", limit=limit):
            for row in self.store.find_outbox(kind="document", document_id=doc.id, state="sent"):
                self.after_sent(row)
                done += 1
        return done


class ErpOutboundWatcher:
    """Picks up ERP files from each partner's ``erp_outbound_path`` and sends them; moves them to sent/ or failed/."""

    def __init__(self, flow: OutboundFlow, *, stable_seconds: float = 1.0) -> None:
        self.flow = flow
        self.stable_seconds = stable_seconds
        self._seen: dict[Path, tuple[int, int, float]] = {}

    def folders(self) -> list[tuple[PartnerProfile, Path]]:
        """(partner, folder) for every partner with an ERP outbound folder (relative to the config file)."""
        base = self.flow.cfg.source_path.parent if self.flow.cfg.source_path else Path.cwd()
        found = []
        for partner in self.flow.cfg.partners:
            if partner.erp_outbound_path is not None:
                path = partner.erp_outbound_path
                found.append((partner, path if path.is_absolute() else (base / path).resolve()))
        return found

    def scan_once(self, *, wait_stable: bool = True) -> list[FileSendResult]:
        """Send every complete file in the ERP folders now (``wait_stable=False``: take files at once)."""
        results = []
        now = time.monotonic()
        for partner, folder in self.folders():
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.name.startswith((".", "~")) or not entry.is_file() or entry.name.endswith((".tmp", ".part")):
                    continue
                path = Path(entry.path)
                st = entry.stat()
                seen = self._seen.get(path)
                if seen is None or seen[:2] != (st.st_size, st.st_mtime_ns):
                    self._seen[path] = (st.st_size, st.st_mtime_ns, now)
                    if wait_stable:
                        continue
                elif wait_stable and now - seen[2] < self.stable_seconds:
                    continue
                result = self.flow.send_file(path, partner.id)
                results.append(result)
                self._move(path, folder / ("failed" if result.problem else "sent"))
                self._seen.pop(path, None)
        return results

    @staticmethod
    def _move(path: Path, target_dir: Path) -> None:
        """Move a handled ERP file out of the way (it is archived already)."""
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / path.name
            if target.exists():
                target = target_dir / f"{path.stem}.{time.time_ns()}{path.suffix}"
            shutil.move(str(path), str(target))
        except OSError:
            log.exception("could not move %s to %s", path, target_dir)

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Scan until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.scan_once()
            except Exception:
                log.exception("ERP outbound scan failed")
            stop.wait(interval)
