"""The inbound pipeline: a landed file -> partner -> parsed documents -> dedup -> acks and deliveries queued.

Rules (the order matters; each step is durable before the next and safe to repeat):
1. A file is processed only after it is landed (archived + ledger row); a worker leases it.
2. The partner comes from the transport (folder, SFTP account, AS2 id) or from ISA05/ISA06.
   An unknown partner, or an ISA sender that is not the transport's partner, rejects the file:
   a quarantined copy, an alert, and no acknowledgment (we do not answer strangers).
3. Duplicates are caught at every layer: the same bytes (content hash), the same interchange
   (sender + ISA13), the same business document (PO / shipment / invoice number + purpose +
   content). A duplicate is recorded with a pointer to the original and is never delivered.
4. Acks (997/999 per functional group, TA1 when asked or on envelope errors) and deliveries to
   sinks are queued in the outbox under idempotency keys derived from the file and the envelope;
   re-processing the same file after a crash queues nothing new.
5. Control numbers for what we send are allocated under the same keys: no gap, no repeat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from gateway.config import GatewayConfig, envelope_rules
from gateway.store import Store
from gateway.store.ids import new_id
from gateway.store.rows import FileRow
from outbound.writers import WriterError, X12Envelope, write_functional_ack
from parsers.canonical import FunctionalAck, GroupAck, InterchangeAck
from parsers.issues import Issue, Level
from parsers.translate import (
    InterchangeOutcome,
    Translation,
    iter_interchanges,
    sniff_format,
    status_of,
    ta1_document,
    translate_csv,
    translate_xml,
)
from parsers.x12.acks import group_ack, interchange_ack
from parsers.x12.readers import SetResult
from parsers.x12.stream import GroupStart, InterchangeStart, TransactionSet
from partners.directory import PartnerDirectory
from partners.profile import PartnerProfile, X12Identity

log = logging.getLogger(__name__)

AcceptedHook = Callable[[PartnerProfile, str, BaseModel], None]  # (partner, document id, canonical document)
CHANGE_PURPOSES = frozenset({"01", "04", "05"})  # cancel, change, replace: a change, never a duplicate


@dataclass
class FileOutcome:
    """What processing one file did (for logs, `gateway ingest` and tests)."""

    file_id: str
    partner_id: str | None
    state: str
    documents: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    acks_queued: int = 0
    message: str | None = None


def canonical_hash(document: Any) -> str:
    """Hash of a canonical document without its envelope: same content => same hash."""
    data = document.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _issues_json(issues: list[Issue]) -> str:
    return json.dumps([i.to_dict() for i in issues], ensure_ascii=False)


class Pipeline:
    """Processes landed files for one worker: identify, parse, dedup, queue acks and deliveries."""

    def __init__(self, cfg: GatewayConfig, store: Store, *, worker_id: str,
                 directory: PartnerDirectory | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.worker_id = worker_id
        self.directory = directory or PartnerDirectory(cfg.partners)
        self.clock = clock or store.now
        # Called for every accepted inbound document (ack reconciliation, routing ASNs to retailers ...),
        # before it leaves 'received'; each hook must be idempotent (queue under idempotency keys).
        self.on_accepted: list[AcceptedHook] = []
        # Documents of an interchange are released in parts of this many segments (flat memory for huge files).
        self.max_buffered_segments = 250_000

    # ------------------------------------------------------------------ entry points

    def process_batch(self, limit: int = 16) -> list[FileOutcome]:
        """Claim up to ``limit`` landed files and process them in ONE store transaction (one commit).

        All-or-nothing: a crash leaves none of the batch half-done. If any file fails, the batch is
        rolled back and each file is processed again in its own transaction, so one bad file only
        affects itself.
        """
        claimed = self.store.claim_files(self.worker_id, limit, self.cfg.gateway.lease_seconds)
        if not claimed:
            return []
        try:
            with self.store.transaction():
                return [self.process_file(f) for f in claimed]
        except Exception:
            log.info("batch of %d files failed; processing them one by one", len(claimed))
        return [self.process_file_safely(f) for f in claimed]

    def process_file_safely(self, f: FileRow) -> FileOutcome:
        """Process a claimed file in its own transaction; an unexpected error rolls all of it back and
        schedules a retry (dead after N) instead of raising."""
        try:
            with self.store.transaction():
                return self.process_file(f)
        except Exception as exc:  # our bug or the store being down: retry later, never lose the file
            log.exception("processing file %s failed", f.id)
            settings = self.cfg.gateway
            if f.attempts >= settings.max_attempts:
                self.store.set_file_state(f.id, "dead", error=f"{type(exc).__name__}: {exc}", release=True)
                self.store.add_alert("file.dead", f"File {f.filename} failed {f.attempts} times and is dead",
                                     f"Processing file {f.filename} (trace id {f.id}) failed {f.attempts} times; "
                                     f"last error: {type(exc).__name__}: {exc}. Fix the cause, then run "
                                     f"`gateway replay {f.id}`.", partner_id=f.partner_id,
                                     dedup_key=f"file.dead:{f.id}")
                return FileOutcome(f.id, f.partner_id, "dead", message=str(exc))
            delay = settings.retry_base_seconds * (2 ** max(0, f.attempts - 1))
            retry_at = self.clock() + dt.timedelta(seconds=delay)
            self.store.set_file_state(f.id, "failed", error=f"{type(exc).__name__}: {exc}", retry_at=retry_at,
                                      release=True)
            return FileOutcome(f.id, f.partner_id, "failed", message=str(exc))

    def process_file(self, f: FileRow) -> FileOutcome:
        """Process one claimed file end to end (idempotent: safe to repeat after a crash)."""
        with self.store.archive.open(f.sha256) as fh:
            head = fh.read(4096)
        partner, problem = self._identify(f, head)
        if partner is None:
            return self._reject_file(f, None, problem or "unknown partner")
        if f.partner_id != partner.id:
            self.store.set_file_partner(f.id, partner.id)
        if problem:
            return self._reject_file(f, partner, problem)

        if partner.dedup.content_hash:
            original = self.store.claim_dedup_key(partner.id, "content", f.sha256, file_id=f.id,
                                                  window_days=partner.dedup.window_days)
            if original is not None and original not in self._replayed_from(f):
                self.store.set_file_state(f.id, "duplicate", detail={"duplicate_of": original,
                                                                     "layer": "content"}, release=True)
                if partner.acks.reack_duplicates:
                    self._reack(partner, f, original)
                return FileOutcome(f.id, partner.id, "duplicate", message=f"same bytes as file {original}")

        fmt = sniff_format(head, csv_mapping=partner.csv)
        if fmt == "x12":
            outcome = self._process_x12(f, partner)
        else:
            outcome = self._process_simple(f, partner, fmt)
        self.store.set_file_state(f.id, outcome.state, detail={"documents": outcome.documents,
                                                                "by_state": outcome.by_state}, release=True)
        return outcome

    def _replayed_from(self, f: FileRow) -> set[str]:
        """The files a replay descends from: their file-level dedup keys are the replay's own, not duplicates."""
        ancestors: set[str] = set()
        parent = f.parent_id
        while parent is not None and parent not in ancestors:
            ancestors.add(parent)
            row = self.store.get_file(parent)
            parent = row.parent_id if row is not None else None
        return ancestors

    # ------------------------------------------------------------------ identification

    def _identify(self, f: FileRow, head: bytes) -> tuple[PartnerProfile | None, str | None]:
        """The partner a file is from, and a problem that rejects it (None when all is well)."""
        hinted = self.directory.get(f.partner_hint)
        sender = _isa_sender(head)
        if hinted is not None:
            if sender and hinted.identities():
                by_isa = self.directory.by_x12(*sender)
                if by_isa is not None and by_isa.id != hinted.id:
                    return hinted, (f"ISA sender {sender[0]}/{sender[1]} is partner {by_isa.id}, but the file "
                                    f"came through {hinted.id}'s {f.transport} transport")
                if by_isa is None:
                    return hinted, (f"ISA sender {sender[0]}/{sender[1]} is not one of {hinted.id}'s "
                                    f"identities ({', '.join(i.qualifier + '/' + i.id for i in hinted.identities())})")
            return hinted, None
        if f.partner_hint:
            return None, f"the transport names partner {f.partner_hint!r}, which is not configured"
        if sender:
            found = self.directory.by_x12(*sender)
            if found is not None:
                return found, None
            return None, f"no partner is configured for ISA sender {sender[0]}/{sender[1]}"
        return None, "the file names no sender we know (no ISA header and no partner from the transport)"

    def _reject_file(self, f: FileRow, partner: PartnerProfile | None, reason: str) -> FileOutcome:
        """Quarantine a file we cannot process for a partner, alert ops, record it rejected."""
        qdir = self.cfg.gateway.data_dir / "quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        target = qdir / f"{f.id}_{_safe_name(f.filename)}"
        if not target.exists():
            shutil.copyfile(self.store.archive.path(f.sha256), target)
        partner_id = partner.id if partner else None
        self.store.add_alert(
            "inbound.rejected_file", f"Rejected file {f.filename}: {reason}",
            f"File {f.filename} ({f.size} bytes, via {f.transport}) was rejected: {reason}.\n"
            f"A copy is in {target}. Trace: gateway trace {f.id}\n"
            "What to do: check the partner configuration (identities, transports), then `gateway replay "
            f"{f.id}`.", partner_id=partner_id, dedup_key=f"rejected_file:{f.id}")
        self.store.set_file_state(f.id, "rejected", detail={"reason": reason, "quarantine": str(target)},
                                  release=True)
        return FileOutcome(f.id, partner_id, "rejected", message=reason)

    # ------------------------------------------------------------------ X12

    def _process_x12(self, f: FileRow, partner: PartnerProfile) -> FileOutcome:
        outcome = FileOutcome(f.id, partner.id, "processed")
        seq = 0
        problems: list[Issue] = []
        carry = _Carry()
        with self.store.archive.open(f.sha256) as fh:
            outcomes = iter_interchanges(fh, rules=envelope_rules(partner),
                                         max_buffered_segments=self.max_buffered_segments)
            for n, ich in enumerate(outcomes, 1):
                if ich.file_problems:
                    problems.extend(ich.file_problems)
                    continue
                if ich.start is None or ich.start is not carry.start:
                    carry = _Carry(start=ich.start)
                seq = self._process_interchange(f, partner, n, ich, seq, outcome, carry)
        if problems and outcome.documents == 0:
            outcome.state = "rejected"
            reason = "; ".join(i.message for i in problems[:3])
            self._alert_rejection(partner, f, None, reason)
            self.store.set_file_state(f.id, "rejected", detail={"issues": [i.to_dict() for i in problems]},
                                      release=True)
        elif problems:
            self._alert_rejection(partner, f, None, "; ".join(i.message for i in problems[:3]))
        return outcome

    def _process_interchange(self, f: FileRow, partner: PartnerProfile, n: int, ich: InterchangeOutcome,
                             seq: int, outcome: FileOutcome, carry: _Carry) -> int:
        """Record one interchange's documents (or one part of a very large one) and queue its acks at its end."""
        start = ich.start
        dup_of: str | None = None
        if start is not None and partner.dedup.control_numbers:  # the same file claiming again gets None
            dup_of = self.store.claim_dedup_key(
                partner.id, "interchange", f"{start.sender_qualifier}:{start.sender_id}:{start.control_number}",
                file_id=f.id, window_days=partner.dedup.window_days)
            if dup_of is not None and dup_of in self._replayed_from(f):
                dup_of = None
        for grp in ich.groups:
            for ts, result, _ in [(t, r, grp) for t, r in grp.sets]:
                seq += 1
                inherited = ich.envelope_issues() + grp.envelope_issues()
                self._record_set(f, partner, seq, Translation(source=f.filename, kind=result.kind,
                                                              document=result.document,
                                                              issues=inherited + result.issues,
                                                              transaction_set=ts), dup_of, outcome)
            # A group may come in parts (very large interchanges): its ack needs every set's result, so the
            # results (without their documents) are kept until the GE arrives.
            results = carry.group_sets.setdefault(id(grp.start), [])
            results.extend((_ack_stub(ts), SetResult(r.kind, None, r.issues)) for ts, r in grp.sets)
            carry.first_group = carry.first_group or grp.start
            # Acknowledgments are never acknowledged (no 997 for a GS*FA group).
            if grp.end is not None:
                results = carry.group_sets.pop(id(grp.start))
                if partner.acks.functional_ack != "none" and grp.start.functional_id_code != "FA":
                    carry.group_acks.append(group_ack(grp.start, grp.end, results, partner.acks.functional_ack))
        for ts, result in ich.loose_sets:
            seq += 1
            self._record_set(f, partner, seq, Translation(source=f.filename, kind=result.kind,
                                                          document=result.document,
                                                          issues=ich.envelope_issues() + result.issues,
                                                          transaction_set=ts), dup_of, outcome)
        for ta1_segment in ich.ta1s:
            seq += 1
            ta1_doc, ta1_issues = ta1_document(ta1_segment)
            self._record_set(f, partner, seq, Translation(source=f.filename, kind="functional_ack", document=ta1_doc,
                                                          issues=ich.envelope_issues() + ta1_issues), dup_of, outcome)
        if start is None or (ich.partial and ich.end is None):
            return seq
        if dup_of is not None and not partner.acks.reack_duplicates:
            return seq
        group_acks = carry.group_acks
        ta1 = self._ta1_for(partner, ich)
        if not group_acks and ta1 is None:
            return seq
        if not partner.acks.ack_accepted and ta1 is None and all(g.status.value == "A" for g in group_acks):
            return seq
        first = carry.first_group
        gs_ids = (first.sender_code, first.receiver_code) if first else ("", "")
        self._queue_ack(f, partner, start, n, group_acks, ta1, gs_ids)
        outcome.acks_queued += 1
        return seq

    def _ta1_for(self, partner: PartnerProfile, ich: InterchangeOutcome) -> InterchangeAck | None:
        """The TA1 to send for an interchange, as the partner's policy says (None for no TA1)."""
        assert ich.start is not None
        policy = partner.acks.ta1
        has_error = any(i.is_error and i.level is Level.INTERCHANGE for i in ich.envelope_issues())
        wanted = (policy == "always" or (policy == "requested" and (ich.start.ack_requested or has_error))
                  or (policy == "on_error" and has_error))
        if not wanted:
            return None
        now = self.clock()
        return interchange_ack(ich.start, ich.end, now.date(), now.time().replace(microsecond=0))

    def _queue_ack(self, f: FileRow, partner: PartnerProfile, start: InterchangeStart, n: int,
                   group_acks: list[GroupAck], ta1: InterchangeAck | None, gs_ids: tuple[str, str]) -> None:
        """Write the 997/999 (+TA1) interchange with allocated control numbers and queue it once."""
        ack_type = partner.acks.functional_ack if group_acks else "TA1"
        key = f"ack:{f.id}:{n}:{start.control_number}"
        version = "005010X231A1" if ack_type == "999" else ("005010" if start.version >= "00501" else "004010")
        numbers = self.store.allocate_control_numbers(partner.id, "out", key, sets=len(group_acks))
        now = self.clock()
        envelope = X12Envelope(
            sender=X12Identity(qualifier=start.receiver_qualifier, id=start.receiver_id,
                               gs_id=gs_ids[1] or start.receiver_id),
            receiver=X12Identity(qualifier=start.sender_qualifier, id=start.sender_id,
                                 gs_id=gs_ids[0] or start.sender_id),
            version=version, delimiters=partner.delimiters, isa13=numbers.isa13, gs06=numbers.gs06,
            usage="T" if start.usage_indicator == "T" else "P", ack_requested="0", date=now.date(),
            time=now.time().replace(second=0, microsecond=0))
        ack = FunctionalAck(ack_type=ack_type, groups=group_acks, interchange_acks=[ta1] if ta1 else [])
        try:
            payload = write_functional_ack(ack, envelope, numbers.st_numbers)
        except WriterError as exc:
            self.store.add_alert("ack.write_failed", f"Could not write the {ack_type} for {f.filename}",
                                 f"Writing the acknowledgment for interchange {start.control_number} in "
                                 f"{f.filename} failed: {exc}. Trace: gateway trace {f.id}",
                                 partner_id=partner.id, dedup_key=f"ack.write_failed:{key}")
            return
        filename = f"{partner.id}_{ack_type}_{numbers.isa13:09d}.x12"
        self.store.enqueue("ack", partner.id, json.dumps({"filename": filename, "ack_type": ack_type,
                                                          "isa13": f"{numbers.isa13:09d}"}),
                           key, payload)

    def _reack(self, partner: PartnerProfile, f: FileRow, original: str) -> None:
        """Send the acks of the original file again for a re-sent duplicate (same bytes, same control numbers)."""
        for row in self.store.find_outbox(kind="ack", key_prefix=f"ack:{original}:"):
            payload = self.store.outbox_payload(row)
            if payload is None:
                continue
            self.store.enqueue("ack", partner.id, row.destination, f"reack:{f.id}:{row.id}", payload)

    # ------------------------------------------------------------------ documents

    def _record_set(self, f: FileRow, partner: PartnerProfile, seq: int, t: Translation, dup_of: str | None,
                    outcome: FileOutcome) -> None:
        """Record one document, decide its state (rejected / duplicate / acknowledged) and queue deliveries."""
        doc = t.document
        ts = t.transaction_set
        issues = t.issues
        status = status_of(issues)
        business_key = getattr(doc, "business_key", None) if doc is not None else None
        purpose = getattr(doc, "purpose_code", None) if doc is not None else None
        content_hash = canonical_hash(doc) if doc is not None else None
        envelope: dict[str, Any] = {}
        if ts is not None:
            ich = ts.interchange
            envelope = {
                "sender_id": ich.sender_id if ich else None, "receiver_id": ich.receiver_id if ich else None,
                "isa13": ich.control_number if ich else None,
                "gs06": ts.group.control_number if ts.group else None, "st02": ts.control_number,
                "gs01": ts.group.functional_id_code if ts.group else None, "st01": ts.id, "version": ts.version,
            }
        # The whole file is processed in one transaction, so the document can be written in its final
        # state at once; its id is chosen first so that dedup keys can point at it.
        doc_id = new_id()
        state, detail, duplicate_of = self._decide(partner, doc_id, t, status, dup_of, content_hash)
        stored_id = self.store.add_document(
            f.id, seq, kind=t.kind, state=state, partner_id=partner.id, business_key=business_key,
            purpose_code=purpose, content_hash=content_hash, parent_id=None, document_id=doc_id,
            duplicate_of=duplicate_of, detail=detail,
            canonical_json=doc.model_dump_json(exclude_none=True) if doc is not None else None,
            issues_json=_issues_json(issues), **envelope)
        if stored_id != doc_id:  # recorded by an earlier run of this file: nothing more to do
            current = self.store.get_document(stored_id)
            state = current.state if current is not None else state
        elif state == "acknowledged" and doc is not None:
            if t.kind != "functional_ack":
                self._queue_deliveries(partner, doc_id, t, f.id)
            for hook in self.on_accepted:  # same transaction as the document row: all or nothing
                hook(partner, doc_id, doc)
        if stored_id == doc_id and state == "rejected":
            self._alert_rejection(partner, f, t, "; ".join(i.message for i in issues if i.is_error)[:500])
        outcome.documents += 1
        outcome.by_state[state] = outcome.by_state.get(state, 0) + 1

    def _decide(self, partner: PartnerProfile, doc_id: str, t: Translation, status: str, dup_of: str | None,
                content_hash: str | None) -> tuple[str, dict[str, Any], str | None]:
        """The state a new document goes to, with the event detail and the original it duplicates."""
        if dup_of is not None:  # a file id (the interchange key is the file's): not a documents.duplicate_of
            return "duplicate", {"layer": "interchange", "duplicate_of": dup_of}, None
        if status == "rejected" or t.kind == "unsupported":
            return "rejected", {"status": status}, None
        doc = t.document
        if doc is not None and t.kind != "functional_ack" and partner.dedup.business_key:
            key_doc = doc.business_key  # type: ignore[attr-defined]
            purpose = getattr(doc, "purpose_code", None) or "00"
            if purpose in CHANGE_PURPOSES:
                key = f"{t.kind}:{key_doc}:{purpose}:{content_hash}"
            else:
                key = f"{t.kind}:{key_doc}:original"
            original = self.store.claim_dedup_key(partner.id, "business", key, document_id=doc_id,
                                                  window_days=partner.dedup.window_days)
            if original is not None:
                orig = self.store.get_document(original)
                same = orig is not None and orig.content_hash == content_hash
                if not same:
                    self.store.add_alert(
                        "inbound.conflicting_original",
                        f"{partner.id} re-sent {t.kind.replace('_', ' ')} {key_doc} with different content",
                        f"{partner.id} sent {t.kind.replace('_', ' ')} {key_doc} again as an original, with "
                        f"content different from document {original}. It was not delivered. Ask the partner to "
                        f"send a change (purpose 05 replace / 01 cancel). Trace: gateway trace {doc_id}",
                        partner_id=partner.id, dedup_key=f"conflict:{doc_id}")
                return "duplicate", {"layer": "business", "duplicate_of": original, "same_content": same}, original
        if t.kind == "functional_ack":
            return "acknowledged", {"status": status, "reconcile": True}, None
        return "acknowledged", {"status": status}, None

    def _queue_deliveries(self, partner: PartnerProfile, doc_id: str, t: Translation, file_id: str) -> None:
        """Queue the canonical document to each of the partner's sinks (once per sink)."""
        for n, sink in enumerate(partner.sinks):
            if t.kind not in sink.kinds:
                continue
            destination = json.dumps({"sink": n, "type": sink.type,
                                      "target": str(sink.path) if sink.path else sink.url})
            # no payload: the body is built from the document row when it is sent (one archive write less)
            self.store.enqueue("sink", partner.id, destination, f"sink:{doc_id}:{n}", None, document_id=doc_id,
                               file_id=file_id)

    def _alert_rejection(self, partner: PartnerProfile, f: FileRow, t: Translation | None, reason: str) -> None:
        """Tell ops about a rejected inbound document, in words."""
        doc = t.document if t else None
        what = f"{t.kind.replace('_', ' ')} {getattr(doc, 'business_key', '')}".strip() if t else "file"
        where = ""
        if t is not None and t.transaction_set is not None:
            ts = t.transaction_set
            where = (f" (ISA13 {ts.interchange.control_number if ts.interchange else '-'}, GS06 "
                     f"{ts.group.control_number if ts.group else '-'}, ST02 {ts.control_number})")
        self.store.add_alert(
            "inbound.rejected", f"Rejected {what} from {partner.id}",
            f"Partner {partner.id} sent {what} in {f.filename}{where}, which was rejected: {reason}.\n"
            f"The partner was told so in the acknowledgment. Trace: gateway trace {f.id}\n"
            "What to do: ask the partner to correct and re-send, or fix our configuration and replay.",
            partner_id=partner.id, dedup_key=f"rejected:{f.id}:{what}")

    # ------------------------------------------------------------------ XML and CSV

    def _process_simple(self, f: FileRow, partner: PartnerProfile, fmt: str) -> FileOutcome:
        outcome = FileOutcome(f.id, partner.id, "processed")
        data = self.store.archive.read(f.sha256)
        items = list(translate_xml(data, name=f.filename) if fmt == "xml"
                     else translate_csv(data, name=f.filename, mapping=partner.csv))
        for seq, t in enumerate(items, 1):
            self._record_set(f, partner, seq, t, None, outcome)
        if outcome.documents and all(k == "rejected" for k in outcome.by_state):
            outcome.state = "rejected"
        return outcome


def _isa_sender(head: bytes) -> tuple[str, str] | None:
    """(ISA05, ISA06) from the start of a file, or None when it does not start with an ISA."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"ISA") or len(text) < 4:
        return None
    sep = text[3:4]
    parts = text.split(sep, 8)
    if len(parts) < 8:
        return None
    try:
        return parts[5].decode("latin-1").strip(), parts[6].decode("latin-1").strip()
    except (IndexError, UnicodeDecodeError):
        return None


@dataclass
class _Carry:
    """What the parts of one interchange hand on to the next part: results for acks, finished group acks."""

    start: InterchangeStart | None = None
    group_sets: dict[int, list[tuple[TransactionSet, SetResult]]] = field(default_factory=dict)
    group_acks: list[GroupAck] = field(default_factory=list)
    first_group: GroupStart | None = None


def _ack_stub(ts: TransactionSet) -> TransactionSet:
    """A transaction set reduced to what its ack needs (ST and issues), so large interchanges stay small."""
    return TransactionSet(segments=ts.segments[:1], interchange=ts.interchange, group=ts.group, index=ts.index,
                          issues=ts.issues)


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "file"


__all__ = ["FileOutcome", "Pipeline", "canonical_hash"]
