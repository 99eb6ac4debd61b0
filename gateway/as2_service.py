"""AS2 orchestration: receive a POSTed message, land it, answer with an MDN; settle async MDNs; send MDNs.

Rules:
- Order for an inbound message: open + verify (parsers.as2) -> land through the Store and record
  the MDN we owe, in ONE commit -> only then the MDN goes out. Nothing is landed for a refused
  message; every refusal raises an alert. Signing the MDN and archiving the blobs (fsync) happen
  before that commit, outside the store's write lock.
- The MDN we answer with is kept in the outbox under ``mdn:<partner>:<Message-ID>`` (kind
  ``mdn-sync`` when it went out in the HTTP response, ``mdn`` when it is POSTed to the partner's
  receipt URL). A repeated Message-ID lands nothing and gets the identical MDN bytes again.
- Async MDNs are POSTed by ``As2MdnWorker`` from the outbox, with retries. Negative MDNs for messages
  we could not verify are answered in the HTTP response: we never POST to a URL an unauthenticated
  request named.
- Sending with an async MDN: the sender records ``as2-mdn-wait:<Message-ID>`` (payload: Message-ID,
  MIC) as an outbox row parked in state ``failed`` with ``next_attempt_at`` = the MDN deadline. The
  MDN arriving on our endpoint settles it: ``sent`` (processed, MIC matches) or ``dead`` (refused),
  with the MDN in the event detail. Past the deadline the worker makes it ``dead`` and alerts.
- Blocking calls only: the HTTP layer runs these methods in a thread pool.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import select

from gateway.config import GatewayConfig
from gateway.store import OutboxRow, Store
from gateway.store.engine import READ_ONLY
from gateway.store.rows import from_mapping
from gateway.store.schema import outbox
from gateway.store.store import IDEMPOTENCY_KEY_MAX, OUTBOX_OPEN, bounded
from inbox.sources.as2 import (
    As2Keys,
    as2_transport_of,
    codec_partner,
    config_error,
    is_mdn,
    load_as2_keys,
    raw_document,
)
from outbound.senders.as2 import As2Sender, check_received_mdn
from outbound.senders.base import Sender, SendError
from parsers.as2 import (
    As2Error,
    As2Partner,
    Disposition,
    InboundMessage,
    KeyMaterialError,
    MdnRequest,
    OutboundMdn,
    build_mdn,
    expiring,
    mics_equal,
    parse_mdn,
    receive_message,
)
from parsers.as2.cms import DIGESTS
from parsers.as2.message import bare_message_id, parse_mdn_request, unquote_as2_name
from partners.directory import PartnerDirectory
from partners.profile import As2Transport, PartnerProfile

log = logging.getLogger(__name__)

MDN_KIND = "mdn"  # an MDN to POST to a partner's receipt URL (async)
MDN_SYNC_KIND = "mdn-sync"  # the record of an MDN that went out in the HTTP response
MDN_WAIT_KIND = "as2-mdn-wait"  # an MDN we expect for a message we sent
AWAITING = "awaiting asynchronous MDN"
UNKNOWN_PARTNER_MAX_BYTES = 1024 * 1024
MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class As2Response:
    """What the HTTP layer answers: status, headers, body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def text(cls, status: int, text: str) -> As2Response:
        """A plain-text answer (no MDN)."""
        return cls(status, {"Content-Type": "text/plain; charset=utf-8"}, (text + "\n").encode("utf-8"))


@dataclass(slots=True)
class _Relationship:
    """The partner a request turned out to be from, once the lookup found it."""

    partner: PartnerProfile | None = None
    transport: As2Transport | None = None
    keys: As2Keys | None = None


def serialize_mdn(mdn: OutboundMdn) -> bytes:
    """An MDN as stored in the outbox: its HTTP headers, a blank line, its body."""
    head = "".join(f"{k}: {v}\r\n" for k, v in mdn.headers.items())
    return head.encode("utf-8") + b"\r\n" + mdn.body


def deserialize_mdn(data: bytes) -> OutboundMdn:
    """The inverse of ``serialize_mdn``."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("stored MDN has no header/body separator")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return OutboundMdn(headers=headers, body=body)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of a certificate, hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def _mdn_id(our_as2_id: str) -> str:
    """A fresh Message-ID for an MDN we send."""
    domain = "".join(c if c.isalnum() or c in "-." else "-" for c in our_as2_id) or "as2"
    return f"mdn-{uuid.uuid4().hex}@{domain}"


class As2Service:
    """Receives AS2 messages and MDNs for all partners, and sends the MDNs and expectations we owe."""

    def __init__(self, config: GatewayConfig, store: Store, *, directory: PartnerDirectory | None = None,
                 http: httpx.Client | None = None, worker_id: str = "as2",
                 mdn_wait_seconds: float = 24 * 3600.0, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.store = store
        self.directory = directory or PartnerDirectory(config.partners)
        self.worker_id = worker_id
        self.mdn_wait_seconds = mdn_wait_seconds
        self._environ = environ
        self._http = http
        self._keys: dict[str, As2Keys] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    @property
    def http(self) -> httpx.Client:
        """The HTTP client for async MDNs (created on first use)."""
        if self._http is None:
            self._http = httpx.Client(timeout=30.0)
        return self._http

    def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            self._http.close()

    def relationship(self, as2_from: str) -> tuple[PartnerProfile, As2Transport] | None:
        """The partner and AS2 transport for an AS2-From, or None."""
        partner = self.directory.by_as2(as2_from)
        transport = as2_transport_of(partner, as2_from) if partner else None
        return None if partner is None or transport is None else (partner, transport)

    def keys_for(self, partner: PartnerProfile, transport: As2Transport) -> As2Keys:
        """The relationship's key material (read once, then cached); KeyMaterialError when unusable."""
        with self._lock:
            cached = self._keys.get(partner.id)
        if cached is not None:
            return cached
        keys = load_as2_keys(transport, self._environ)
        with self._lock:
            self._keys[partner.id] = keys
        return keys

    def max_body_bytes(self, headers: Mapping[str, str]) -> int:
        """How many bytes we read from a POST with these headers (the partner's limit)."""
        lower = {k.lower(): v for k, v in headers.items()}
        found = self.relationship(unquote_as2_name(lower.get("as2-from", "")))
        return found[1].max_body_bytes if found else UNKNOWN_PARTNER_MAX_BYTES

    def outbox_by_key(self, idempotency_key: str) -> OutboxRow | None:
        """The outbox row queued under this idempotency key, if any."""
        key = bounded(idempotency_key, IDEMPOTENCY_KEY_MAX)
        with self.store.engine.connect() as conn:
            # a reader's plain BEGIN: on SQLite it must not queue for the write lock, which this very
            # thread holds when it answers a duplicate inside its landing transaction
            conn.execution_options(**{READ_ONLY: True})
            row = conn.execute(select(outbox).where(outbox.c.idempotency_key == key)).mappings().first()
        return None if row is None else from_mapping(OutboxRow, row)

    def _alert(self, kind: str, subject: str, body: str, partner_id: str | None, dedup_key: str | None) -> None:
        """Record an alert; a store failure is logged, never raised into the HTTP answer."""
        try:
            self.store.add_alert(kind, subject, body, partner_id=partner_id, dedup_key=dedup_key)
        except Exception:
            log.exception("recording alert %s failed", kind)

    # ------------------------------------------------------------------ receiving

    def handle(self, headers: Mapping[str, str], body: bytes) -> As2Response:
        """One POST to the AS2 endpoint: an MDN for a message we sent, or a partner's message."""
        if is_mdn(headers, body):
            return self.receive_mdn(headers, body)
        return self.receive(headers, body)

    def refuse_oversized(self, headers: Mapping[str, str], size: int | None, limit: int) -> As2Response:
        """Answer 413 to a body over the limit (no MDN: we did not read the message) and alert."""
        lower = {k.lower(): v for k, v in headers.items()}
        as2_from = unquote_as2_name(lower.get("as2-from", ""))
        found = self.relationship(as2_from)
        partner_id = found[0].id if found else None
        mid = bare_message_id(lower.get("message-id", ""))
        told = f"{size} bytes" if size is not None else "more than that"
        self._alert("as2.too_large", f"AS2 message <{mid}> from {as2_from or '?'} refused: body over {limit} bytes",
                    f"The POST carried {told}; the limit for this sender is {limit} bytes (max_body_bytes). "
                    "Nothing was landed.", partner_id, f"as2.too_large:{partner_id or as2_from}")
        return As2Response.text(413, f"AS2 message body exceeds {limit} bytes; refused")

    def receive(self, headers: Mapping[str, str], body: bytes) -> As2Response:
        """Open, verify and land one AS2 message; answer with its MDN (sync) or queue it (async)."""
        received_at = self.store.now()
        rel = _Relationship()

        def lookup(as2_from: str, as2_to: str) -> As2Partner | None:
            found = self.relationship(as2_from)
            if found is None or found[1].our_as2_id != as2_to:
                return None
            rel.partner, rel.transport = found
            try:
                rel.keys = self.keys_for(*found)
            except KeyMaterialError as exc:
                raise config_error(f"our AS2 key material for partner {found[0].id} cannot be used: {exc}") from None
            return codec_partner(found[1], rel.keys)

        try:
            message = receive_message(headers, body, lookup)
        except As2Error as exc:
            return self._refuse(exc, rel)
        except Exception as exc:  # a bug in the codec: still a clean negative MDN, never a traceback
            log.exception("AS2 receive failed unexpectedly")
            lower = {k.lower(): v for k, v in headers.items()}
            error = As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"internal error ({type(exc).__name__})",
                             remote=False, message_id=bare_message_id(lower.get("message-id", "")) or None,
                             as2_from=unquote_as2_name(lower.get("as2-from", "")) or None,
                             as2_to=unquote_as2_name(lower.get("as2-to", "")) or None,
                             mdn_request=parse_mdn_request(lower))
            return self._refuse(error, rel)
        assert rel.partner is not None and rel.transport is not None and rel.keys is not None
        return self._accept(message, rel.partner, rel.transport, rel.keys, received_at)

    def _accept(self, message: InboundMessage, partner: PartnerProfile, transport: As2Transport, keys: As2Keys,
                received_at: dt.datetime) -> As2Response:
        """Land a verified message and record the MDN we owe for it in one commit, then answer with that MDN."""
        request = message.mdn_request
        fresh = None if request is None else serialize_mdn(build_mdn(
            mdn_message_id=_mdn_id(transport.our_as2_id), original_message_id=message.message_id,
            our_as2_id=transport.our_as2_id, their_as2_id=message.as2_from, received_mic=message.mic,
            signer=keys.signer(self._mdn_digest(request, transport)) if request.signed else None,
            date=self.store.now(),
        ))
        try:
            # The slow parts (signing above, fsync'd blobs here) happen outside the store's write lock;
            # inside, land() and enqueue() find their blobs archived already.
            self.store.archive.put_bytes(message.payload)
            if fresh is not None:
                self.store.archive.put_bytes(fresh)
            with self.store.transaction():
                receipt = self.store.land(raw_document(message, partner.id, received_at))
                answer = As2Response(200) if request is None or fresh is None else \
                    self._record_mdn(message, partner.id, request, fresh, duplicate=receipt.already_landed)
        except Exception as exc:
            log.exception("landing AS2 message <%s> failed", message.message_id)
            self._alert("as2.land_failed", f"AS2 message <{message.message_id}> from {partner.id} could not be stored",
                        f"{type(exc).__name__}: {exc}. The partner was answered 503 and should retry.",
                        partner.id, f"as2.land_failed:{partner.id}")
            return As2Response.text(503, "message could not be stored; please retry later")
        return answer

    def _record_mdn(self, message: InboundMessage, partner_id: str, request: MdnRequest, fresh: bytes, *,
                    duplicate: bool) -> As2Response:
        """In the landing transaction: queue the MDN (async) or record it as sent (sync); a duplicate gets
        the MDN stored for its first arrival."""
        key = f"mdn:{partner_id}:{message.message_id}"
        stored = self.outbox_by_key(key) if duplicate else None
        payload = fresh
        earlier = self.store.outbox_payload(stored) if stored is not None else None
        if stored is not None and earlier is not None:
            payload = earlier
            log.info("AS2 message <%s> from %s is a duplicate; answering its first MDN again",
                     message.message_id, partner_id)
        else:
            stored = None
        url = request.async_url
        if url and url.lower().startswith(("http://", "https://")):
            resend_key = key if stored is None else f"{key}:resend:{uuid.uuid4().hex}"
            self.store.enqueue(MDN_KIND, partner_id, url, resend_key, payload)
            return As2Response.text(200, "message received; the MDN will be sent to the receipt URL")
        if stored is None:
            outbox_id = self.store.enqueue(MDN_SYNC_KIND, partner_id, "sync-response", key, payload)
            row = self.store.get_outbox(outbox_id)
            if row is not None:
                if row.state in OUTBOX_OPEN and row.kind == MDN_SYNC_KIND:
                    self.store.mark_sent(outbox_id, detail={"message_id": message.message_id, "mdn": "sync"})
                payload = self.store.outbox_payload(row) or payload  # a concurrent duplicate may have won
        mdn = deserialize_mdn(payload)
        return As2Response(200, mdn.headers, mdn.body)

    @staticmethod
    def _mdn_digest(request: MdnRequest | None, transport: As2Transport) -> str:
        """The digest to sign our MDN with: the first the sender asked for that we support."""
        for name in request.micalgs if request else ():
            if name in DIGESTS:
                return name
        return transport.digest_algorithm

    def _refuse(self, exc: As2Error, rel: _Relationship) -> As2Response:
        """Alert and answer a refused message: a negative MDN when one was asked for, else 4xx/5xx."""
        partner_id = rel.partner.id if rel.partner else None
        who = "the partner's message" if exc.remote else "our configuration"
        mid = exc.message_id or "?"
        self._alert(
            "as2.rejected" if exc.remote else "as2.config",
            f"AS2 message <{mid}> from {exc.as2_from or '?'} refused: {exc.disposition.value}",
            f"{exc.message}\nThe fault is in {who}. Nothing was landed; the sender was told "
            f"'processed/error: {exc.disposition.value}'.",
            partner_id, f"as2.rejected:{partner_id or exc.as2_from}:{exc.disposition.value}",
        )
        log.warning("AS2 message <%s> from %s refused: %s", mid, exc.as2_from, exc)
        if exc.mdn_request is None or not exc.message_id:
            return As2Response.text(400 if exc.remote else 500, f"AS2 message refused: {exc}")
        signer = None
        if exc.mdn_request.signed and rel.keys is not None and rel.transport is not None:
            signer = rel.keys.signer(self._mdn_digest(exc.mdn_request, rel.transport))
        our_id = rel.transport.our_as2_id if rel.transport else (exc.as2_to or "unknown")
        mdn = build_mdn(
            mdn_message_id=_mdn_id(our_id), original_message_id=exc.message_id, our_as2_id=our_id,
            their_as2_id=exc.as2_from or "unknown", error=exc.disposition, error_text=exc.message,
            signer=signer, date=self.store.now(),
        )
        return As2Response(200, mdn.headers, mdn.body)

    # ------------------------------------------------------------------ MDNs for messages we sent

    def expect(self, partner_id: str, message_id: str, mic: str, *, destination: str,
               idempotency_key: str, filename: str) -> None:
        """outbound.senders.as2.MdnTracker: park an expectation for the MDN of ``message_id``."""
        payload = json.dumps({"message_id": message_id, "mic": mic, "idempotency_key": idempotency_key,
                              "filename": filename}, sort_keys=True).encode("utf-8")
        outbox_id = self.store.enqueue(MDN_WAIT_KIND, partner_id, destination, f"{MDN_WAIT_KIND}:{message_id}", payload)
        row = self.store.get_outbox(outbox_id)
        if row is not None and row.state == "pending":
            deadline = self.store.now() + dt.timedelta(seconds=self.mdn_wait_seconds)
            self.store.mark_failed(outbox_id, AWAITING, deadline)

    def settle(self, partner_id: str, message_id: str, *, ok: bool, detail: str) -> None:
        """outbound.senders.as2.MdnTracker: the partner answered synchronously; close the expectation."""
        row = self.outbox_by_key(f"{MDN_WAIT_KIND}:{message_id}")
        if row is None or row.partner_id != partner_id or row.state not in OUTBOX_OPEN:
            return
        if ok:
            self.store.mark_sent(row.id, detail={"mdn": detail, "sync": True})
        else:
            self.store.mark_dead(row.id, detail)

    def receive_mdn(self, headers: Mapping[str, str], body: bytes) -> As2Response:
        """Verify an async MDN POSTed to us and settle the expectation of the message it is for."""
        lower = {k.lower(): v for k, v in headers.items()}
        as2_from = unquote_as2_name(lower.get("as2-from", ""))
        found = self.relationship(as2_from)
        if found is None:
            self._alert("as2.mdn_rejected", f"MDN from unknown AS2-From {as2_from!r} refused",
                        "An MDN arrived from an AS2 id no partner profile has.", None, f"as2.mdn_unknown:{as2_from}")
            return As2Response.text(403, f"no trading partner with AS2 id {as2_from!r}")
        partner, transport = found
        try:
            keys = self.keys_for(partner, transport)
            mdn = parse_mdn(headers, body, their_certs=keys.their_certs, require_signature=transport.mdn_signed)
        except (As2Error, KeyMaterialError) as exc:
            self._alert("as2.mdn_rejected", f"MDN from {partner.id} cannot be trusted",
                        f"{exc}\nThe message it is for stays unconfirmed.", partner.id,
                        f"as2.mdn_rejected:{partner.id}")
            return As2Response.text(400, f"MDN refused: {exc}")
        row = self.outbox_by_key(f"{MDN_WAIT_KIND}:{mdn.original_message_id}")
        if row is None or row.partner_id != partner.id or row.kind != MDN_WAIT_KIND:
            self._alert("as2.mdn_unexpected", f"MDN from {partner.id} for unknown message <{mdn.original_message_id}>",
                        f"Disposition: {mdn.disposition}. We have no record of sending that message.", partner.id,
                        f"as2.mdn_unexpected:{partner.id}")
            return As2Response.text(200, "MDN received; no such message was sent to you")
        if row.state not in OUTBOX_OPEN:
            return As2Response.text(200, "MDN received (already recorded)")
        expected = json.loads(self.store.outbox_payload(row) or b"{}")
        mdn = dataclasses.replace(mdn, mic_matches=mics_equal(mdn.received_mic, expected.get("mic")))
        detail = {"mdn": mdn.disposition, "mic": mdn.received_mic, "signed": mdn.signed}
        try:
            check_received_mdn(mdn, mdn.original_message_id)
        except SendError as exc:
            self.store.mark_dead(row.id, str(exc))
            self._alert("as2.mdn_negative", f"{partner.id} refused AS2 message <{mdn.original_message_id}>",
                        f"{exc}\nFile: {expected.get('filename')}. Outbox: {row.id}.", partner.id, None)
            return As2Response.text(200, "MDN received")
        self.store.mark_sent(row.id, detail=detail)
        return As2Response.text(200, "MDN received")

    # ------------------------------------------------------------------ the MDN worker

    def sender_for(self, partner: PartnerProfile) -> Sender:
        """A Sender for the delivery worker: AS2 partners get one that records async MDN expectations."""
        if isinstance(partner.outbound, As2Transport):
            return As2Sender.for_partner(partner, mdn_tracker=self)
        from gateway.delivery import default_sender_for

        return default_sender_for(partner)

    def run_mdn_once(self, limit: int = 32, lease_seconds: float | None = None) -> int:
        """Send due async MDNs and expire overdue MDN expectations; returns how many rows were handled."""
        lease = lease_seconds or self.config.gateway.lease_seconds
        rows = self.store.claim_outbox(self.worker_id, limit, lease, kinds=(MDN_KIND, MDN_WAIT_KIND))
        for row in rows:
            try:
                if row.kind == MDN_KIND:
                    self._post_mdn(row)
                else:
                    self._wait_due(row)
            except Exception as exc:
                log.exception("AS2 outbox row %s failed", row.id)
                self._retry_or_die(row, f"{type(exc).__name__}: {exc}", retryable=True)
        return len(rows)

    def _post_mdn(self, row: OutboxRow) -> None:
        """POST one stored MDN to the partner's receipt URL."""
        mdn = deserialize_mdn(self.store.outbox_payload(row) or b"")
        try:
            response = self.http.post(row.destination, content=mdn.body, headers=mdn.headers)
        except httpx.HTTPError as exc:
            self._retry_or_die(row, f"POST to {row.destination} failed: {type(exc).__name__}: {exc}", retryable=True)
            return
        if response.status_code < 300:
            self.store.mark_sent(row.id, worker=self.worker_id, detail={"to": row.destination,
                                                                        "status": response.status_code})
            return
        retryable = response.status_code >= 500 or response.status_code in (408, 425, 429)
        self._retry_or_die(row, f"{row.destination} answered HTTP {response.status_code}", retryable=retryable)

    def _retry_or_die(self, row: OutboxRow, error: str, *, retryable: bool) -> None:
        """Back off exponentially, or dead-letter and alert when out of attempts or not retryable."""
        settings = self.config.gateway
        if retryable and row.attempts < settings.max_attempts:
            delay = min(settings.retry_base_seconds * 2 ** max(row.attempts - 1, 0), MAX_BACKOFF_SECONDS)
            self.store.mark_failed(row.id, error, self.store.now() + dt.timedelta(seconds=delay), worker=self.worker_id)
            return
        self.store.mark_dead(row.id, error, worker=self.worker_id)
        self._alert("mdn.dead", f"AS2 MDN to {row.partner_id} is dead after {row.attempts} attempt(s)",
                    f"{error}\nOutbox: {row.id} ({row.idempotency_key}).", row.partner_id, None)

    def _wait_due(self, row: OutboxRow) -> None:
        """An MDN expectation came due: park it again until its deadline, or give up and alert."""
        deadline = row.created_at + dt.timedelta(seconds=self.mdn_wait_seconds)
        if self.store.now() < deadline:
            self.store.mark_failed(row.id, AWAITING, deadline, worker=self.worker_id)
            return
        hours = self.mdn_wait_seconds / 3600
        self.store.mark_dead(row.id, f"no MDN within {hours:g} h", worker=self.worker_id)
        expected = json.loads(self.store.outbox_payload(row) or b"{}")
        self._alert("as2.mdn_overdue", f"No MDN from {row.partner_id} for <{expected.get('message_id')}>",
                    f"We sent {expected.get('filename')} to {row.destination} and asked for an asynchronous MDN; "
                    f"none arrived within {hours:g} hours. Check with the partner whether they received it.",
                    row.partner_id, None)


class As2MdnWorker:
    """Loop that sends queued async MDNs and expires MDN expectations (one per gateway worker)."""

    def __init__(self, service: As2Service, interval: float = 0.5) -> None:
        self.service = service
        self.interval = interval

    def run_once(self, limit: int = 32) -> int:
        """Handle what is due now; returns how many rows were handled."""
        return self.service.run_mdn_once(limit)

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set."""
        while not stop.is_set():
            try:
                handled = self.run_once()
            except Exception:
                log.exception("AS2 MDN loop failed")
                handled = 0
            if not handled:
                stop.wait(self.interval)


# ---------------------------------------------------------------------- daemon wiring


def uses_as2(config: GatewayConfig) -> bool:
    """True when the gateway needs an As2Service: some partner has an AS2 transport, or HTTP is enabled."""
    return config.http.enabled or any(
        isinstance(t, As2Transport) for p in config.partners for t in [*p.inbound, p.outbound])


def needs_endpoint(config: GatewayConfig) -> list[str]:
    """Partners that need our AS2 endpoint (they send to us, or answer with async MDNs)."""
    return [p.id for p in config.partners
            if any(isinstance(t, As2Transport) for t in p.inbound)
            or (isinstance(p.outbound, As2Transport) and p.outbound.mdn_mode == "async")]


class CertificateWatch:
    """Loop that runs ``check_certificates`` at start-up and then every ``interval`` seconds (daily)."""

    def __init__(self, config: GatewayConfig, store: Store, *, interval: float = 24 * 3600.0,
                 within_days: float = 30, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.store = store
        self.interval = interval
        self.within_days = within_days
        self.environ = environ

    def run_once(self) -> list[ExpiringCertificate]:
        """Check every AS2 certificate now; alerts go to the store."""
        return check_certificates(self.config, self.store, self.store.now(), self.within_days, self.environ)

    def run(self, stop: threading.Event) -> None:
        """Check at once, then every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                found = self.run_once()
                if found:
                    log.warning("%d AS2 certificate(s) expire within %g days", len(found), self.within_days)
            except Exception:
                log.exception("AS2 certificate check failed")
            stop.wait(self.interval)


# ---------------------------------------------------------------------- certificates


@dataclass(frozen=True, slots=True)
class ExpiringCertificate:
    """A certificate of a partner relationship that expires soon (or has expired)."""

    partner_id: str
    subject: str
    not_after: dt.datetime
    fingerprint: str


def check_certificates(config: GatewayConfig, store: Store, now: dt.datetime, within_days: float = 30,
                       environ: Mapping[str, str] | None = None) -> list[ExpiringCertificate]:
    """Alert for each AS2 certificate expiring within ``within_days`` (one alert per fingerprint) and
    for key files that cannot be read; returns the expiring certificates found."""
    found: list[ExpiringCertificate] = []
    seen: set[str] = set()
    for partner in config.partners:
        transports = {id(t): t for t in [*partner.inbound, partner.outbound] if isinstance(t, As2Transport)}
        for transport in transports.values():
            try:
                keys = load_as2_keys(transport, environ)
            except KeyMaterialError as exc:
                store.add_alert("as2.keys_unreadable", f"AS2 key material of {partner.id} cannot be read", str(exc),
                                partner_id=partner.id, dedup_key=f"as2.keys_unreadable:{partner.id}")
                continue
            certs: Sequence[x509.Certificate] = keys.all_certificates()
            for cert in expiring(certs, now, within_days):
                fp = fingerprint(cert)
                if fp in seen:
                    continue
                seen.add(fp)
                item = ExpiringCertificate(partner.id, cert.subject.rfc4514_string(), cert.not_valid_after_utc, fp)
                found.append(item)
                days = (cert.not_valid_after_utc - (now if now.tzinfo else now.replace(tzinfo=dt.UTC))).days
                when = f"expired {-days} day(s) ago" if days < 0 else f"expires in {days} day(s)"
                store.add_alert(
                    "as2.cert_expiring", f"AS2 certificate {item.subject} ({partner.id}) {when}",
                    f"Certificate {item.subject}, SHA-256 {fp}, valid until {item.not_after.isoformat()}, "
                    f"used with partner {partner.id}. Arrange the rollover: add the new certificate next to "
                    "the old one (their_signing_certs is a list) before it expires.",
                    partner_id=partner.id, dedup_key=f"as2.cert:{fp}",
                )
    return found
