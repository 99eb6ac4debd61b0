"""AS2 sender: build a signed/encrypted AS2 message (parsers.as2), POST it with httpx, read the MDN.

Rules:
- The Message-ID is derived from the outbox idempotency key, so a resend after a crash carries
  the same Message-ID: the partner recognises the duplicate instead of booking the document twice.
- Synchronous MDN: the MDN in the HTTP response must verify (signed when the profile says so),
  be for our Message-ID, say ``processed`` and carry our MIC. A negative disposition or a MIC
  mismatch is not retryable (a person must look); ``duplicate-document`` means already sent.
- Asynchronous MDN: before POSTing, the expected MDN (Message-ID + MIC) is handed to an
  ``MdnTracker``; the gateway settles it when the MDN arrives on our endpoint.
- HTTP: connection errors, timeouts, 5xx, 408 and 429 are retryable; other 4xx are not.
- httpx is imported by this module only (on the outbound side); its errors become SendError here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from cryptography import x509

from outbound.senders.base import OutboundMessage, Sender, SendError, SendResult, check_filename
from parsers.as2 import (
    As2Error,
    KeyMaterial,
    KeyMaterialError,
    ReceivedMdn,
    Signer,
    build_message,
    load_key_material,
    parse_mdn,
)
from partners.profile import As2Transport, PartnerProfile

RETRYABLE_STATUS = frozenset({408, 425, 429})
DEFAULT_TIMEOUT_SECONDS = 60.0


class MdnTracker(Protocol):
    """Where the sender records an MDN it expects asynchronously (implemented by the gateway's store)."""

    def expect(self, partner_id: str, message_id: str, mic: str, *, destination: str,
               idempotency_key: str, filename: str) -> None:
        """Remember that an MDN for ``message_id`` carrying ``mic`` should arrive on our endpoint."""
        ...

    def settle(self, partner_id: str, message_id: str, *, ok: bool, detail: str) -> None:
        """The partner answered synchronously after all (typically a refusal): settle the expectation."""
        ...


@dataclass(frozen=True, slots=True)
class As2SendKeys:
    """Key material for sending: our signing pair, their encryption and MDN-signing certificates."""

    signer: Signer | None
    their_encryption_cert: x509.Certificate | None
    their_signing_certs: tuple[x509.Certificate, ...]


def _material(path: Path, what: str, password: bytes | None = None) -> KeyMaterial:
    """Read and decode one key file; KeyMaterialError naming the file."""
    try:
        return load_key_material(Path(path).read_bytes(), password)
    except OSError as exc:
        raise KeyMaterialError(f"{what} {path}: cannot be read: {exc.strerror or exc}") from None
    except KeyMaterialError as exc:
        raise KeyMaterialError(f"{what} {path}: {exc}") from None


def load_send_keys(transport: As2Transport, environ: Mapping[str, str] | None = None) -> As2SendKeys:
    """Load the files an AS2 profile names for sending; raises KeyMaterialError naming the file."""
    env = os.environ if environ is None else environ
    password = None
    if transport.our_key_password_env:
        value = env.get(transport.our_key_password_env)
        if value is None:
            raise KeyMaterialError(f"environment variable {transport.our_key_password_env} (our key password) is unset")
        password = value.encode("utf-8")
    signer = None
    if transport.sign:
        if transport.our_key is None:
            raise KeyMaterialError("sign = true but the profile names no our_key")
        key_material = _material(transport.our_key, "our key", password)
        certs = list(key_material.certificates)
        if transport.our_cert is not None:
            certs = list(_material(transport.our_cert, "our certificate").certificates) + certs
        if not certs:
            raise KeyMaterialError(f"our key {transport.our_key}: no certificate (set our_cert)")
        signer = Signer(certs[0], key_material.private_key, transport.digest_algorithm)
    encryption = None
    if transport.encrypt:
        if transport.their_encryption_cert is None:
            raise KeyMaterialError("encrypt = true but the profile names no their_encryption_cert")
        encryption = _material(transport.their_encryption_cert, "their encryption certificate").certificate
    signing: list[x509.Certificate] = []
    for path in transport.their_signing_certs:
        signing += _material(path, "their signing certificate").certificates
    return As2SendKeys(signer, encryption, tuple(signing))


def message_id_for(idempotency_key: str, our_as2_id: str) -> str:
    """The Message-ID for an outbox message: the same for every attempt to send it."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    domain = "".join(c if c.isalnum() or c in "-." else "-" for c in our_as2_id) or "as2"
    return f"{digest}@{domain}"


def _utc_now() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


class As2Sender(Sender):
    """Sends outbound messages to one AS2 partner over HTTP(S) and checks the partner's MDN."""

    def __init__(self, transport: As2Transport, keys: As2SendKeys, http: httpx.Client | None = None, *,
                 partner_id: str = "", mdn_tracker: MdnTracker | None = None,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        if not transport.url:
            raise SendError(f"AS2 partner {transport.as2_id!r} has no url to send to", retryable=False,
                            kind="send.no_destination")
        if transport.mdn_mode == "async" and (mdn_tracker is None or not transport.async_mdn_url):
            raise SendError("mdn_mode = 'async' needs async_mdn_url in the profile and an MDN tracker "
                            "(send through gateway.as2_service)", retryable=False, kind="send.as2_config")
        self.transport = transport
        self.keys = keys
        self.partner_id = partner_id or transport.as2_id
        self.mdn_tracker = mdn_tracker
        self._clock = clock
        self._own_http = http is None
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT_SECONDS)
        self.last_mdn: ReceivedMdn | None = None

    @classmethod
    def for_partner(cls, partner: PartnerProfile, *, http: httpx.Client | None = None,
                    mdn_tracker: MdnTracker | None = None) -> As2Sender:
        """The sender for a partner whose outbound transport is AS2 (keys read from the profile's files)."""
        transport = partner.outbound
        if not isinstance(transport, As2Transport):
            raise SendError(f"partner {partner.id} has no outbound AS2 transport", retryable=False,
                            kind="send.no_transport")
        try:
            keys = load_send_keys(transport)
        except KeyMaterialError as exc:
            raise SendError(f"AS2 key material of partner {partner.id}: {exc}", retryable=False,
                            kind="send.as2_keys") from None
        return cls(transport, keys, http, partner_id=partner.id, mdn_tracker=mdn_tracker)

    def close(self) -> None:
        """Close the HTTP client if we created it."""
        if self._own_http:
            self.http.close()

    def send(self, message: OutboundMessage) -> SendResult:
        """Build, POST and (for sync MDNs) verify the receipt; raise SendError on any failure."""
        check_filename(message.filename)
        t = self.transport
        assert t.url is not None
        message_id = message_id_for(message.idempotency_key, t.our_as2_id)
        try:
            built = build_message(
                message.payload, as2_from=t.our_as2_id, as2_to=t.as2_id, message_id=message_id,
                content_type=message.content_type, filename=message.filename, date=self._clock(),
                signer=self.keys.signer,
                encrypt_to=[self.keys.their_encryption_cert] if self.keys.their_encryption_cert else (),
                encryption_algorithm=t.encryption_algorithm, compress=t.compress,
                mdn_to=None if t.mdn_mode == "none" else t.our_as2_id, mdn_signed=t.mdn_signed,
                mdn_micalg=t.digest_algorithm,
                async_mdn_url=t.async_mdn_url if t.mdn_mode == "async" else None,
            )
        except As2Error as exc:
            raise SendError(f"cannot build the AS2 message: {exc}", retryable=False, kind="send.as2_build") from None
        if t.mdn_mode == "async":
            assert self.mdn_tracker is not None
            self.mdn_tracker.expect(self.partner_id, built.message_id, built.mic, destination=t.url,
                                    idempotency_key=message.idempotency_key, filename=message.filename)
        response = self._post(t.url, built.headers, built.body)
        if t.mdn_mode == "none":
            return SendResult(f"{t.url} <{built.message_id}>", len(message.payload))
        if t.mdn_mode == "async":
            if not _looks_like_mdn(response):
                return SendResult(f"{t.url} <{built.message_id}>", len(message.payload))
            # A partner that cannot open the message answers at once, in the response.
            assert self.mdn_tracker is not None
            try:
                mdn = self._check_mdn(response, built.message_id, built.mic)
            except SendError as exc:
                self.mdn_tracker.settle(self.partner_id, built.message_id, ok=False, detail=str(exc))
                raise
            self.mdn_tracker.settle(self.partner_id, built.message_id, ok=True, detail=mdn.disposition)
            return SendResult(f"{t.url} <{built.message_id}>", len(message.payload),
                              already_sent=mdn.modifier == "duplicate-document")
        mdn = self._check_mdn(response, built.message_id, built.mic)
        duplicate = mdn.modifier == "duplicate-document"
        return SendResult(f"{t.url} <{built.message_id}>", len(message.payload), already_sent=duplicate)

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        """POST the message; map transport errors and HTTP statuses to SendError."""
        try:
            response = self.http.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise SendError(f"AS2 POST to {url} timed out: {exc}", retryable=True, kind="send.timeout") from None
        except httpx.HTTPError as exc:
            raise SendError(f"AS2 POST to {url} failed: {type(exc).__name__}: {exc}", retryable=True,
                            kind="send.connection") from None
        status = response.status_code
        if status >= 300:
            retryable = status >= 500 or status in RETRYABLE_STATUS
            text = " ".join(response.text[:300].split())
            raise SendError(f"AS2 partner at {url} answered HTTP {status}: {text}", retryable=retryable,
                            kind="send.http_status")
        return response

    def _check_mdn(self, response: httpx.Response, message_id: str, mic: str) -> ReceivedMdn:
        """Verify the synchronous MDN; SendError unless it is a processed receipt with our MIC."""
        if not response.content:
            raise SendError(f"AS2 partner answered HTTP {response.status_code} without the synchronous MDN "
                            "we asked for", retryable=True, kind="send.as2_no_mdn")
        try:
            mdn = parse_mdn(dict(response.headers), response.content, their_certs=self.keys.their_signing_certs,
                            expected_message_id=message_id, expected_mic=mic,
                            require_signature=self.transport.mdn_signed)
        except As2Error as exc:
            raise SendError(f"the partner's MDN for <{message_id}> cannot be trusted: {exc}", retryable=False,
                            kind="send.as2_bad_mdn") from None
        self.last_mdn = mdn
        return check_received_mdn(mdn, message_id)


def _looks_like_mdn(response: httpx.Response) -> bool:
    """True when an HTTP response carries an MDN (multipart/report, or multipart/signed around one)."""
    content_type = response.headers.get("content-type", "").lower()
    return bool(response.content) and (content_type.startswith("multipart/report")
                                       or content_type.startswith("multipart/signed"))


def check_received_mdn(mdn: ReceivedMdn, message_id: str) -> ReceivedMdn:
    """Raise a non-retryable SendError when an MDN reports failure or a different MIC; else return it."""
    if mdn.modifier == "duplicate-document":
        return mdn
    if mdn.status != "processed":
        raise SendError(f"the partner refused <{message_id}>: {mdn.disposition}"
                        + (f" ({mdn.text})" if mdn.text else ""), retryable=False, kind="send.as2_negative_mdn")
    if mdn.mic_matches is False:
        raise SendError(f"the partner's MDN for <{message_id}> carries MIC {mdn.received_mic!r}, not ours: "
                        "the message was altered in transit", retryable=False, kind="send.as2_mic_mismatch")
    return mdn


def certificates_of(keys: As2SendKeys) -> Sequence[x509.Certificate]:
    """Every certificate a sender uses (for expiry checks)."""
    own = [keys.signer.cert] if keys.signer else []
    enc = [keys.their_encryption_cert] if keys.their_encryption_cert else []
    return [*own, *enc, *keys.their_signing_certs]
