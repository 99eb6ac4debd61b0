"""AS2 receipts: build the MDN we return (RFC 3798 / RFC 4130 7.4) and read the MDN a partner returns.

Rules:
- An MDN is a multipart/report (report-type=disposition-notification) with a human text part and
  a message/disposition-notification part; signed MDNs wrap it in multipart/signed.
- ``processed`` means the message was received, verified and landed; any ``As2Error`` becomes
  ``processed/error: <disposition>``.
- Reading an MDN raises ``As2Error`` when the MDN itself cannot be trusted (bad or missing
  signature, wrong Original-Message-ID, no disposition); what it *says* (an error disposition, a
  MIC that differs from ours) is returned in ``ReceivedMdn`` for the sender to act on.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509

from parsers.as2.errors import As2Error, Disposition
from parsers.as2.message import (
    AS2_VERSION,
    Signer,
    bare_message_id,
    make_boundary,
    mics_equal,
    quote_as2_name,
    sign_entity,
    unquote_as2_name,
    verify_signed,
)
from parsers.as2.mime import MimeEntity, build_entity, build_multipart, entity_from_http, parse_entity, split_multipart

REPORTING_UA = "edi-partner-gateway AS2"
_PROCESSED = "automatic-action/MDN-sent-automatically; processed"
_TEXT_OK = "The AS2 message {mid} was received and processed; this receipt does not vouch for its content."
_TEXT_ERROR = "The AS2 message {mid} could not be processed: {error}"


@dataclass(frozen=True, slots=True)
class OutboundMdn:
    """An MDN ready to send: HTTP headers (sync response or async POST) and body."""

    headers: dict[str, str]
    body: bytes


def build_mdn(
    *,
    mdn_message_id: str,
    original_message_id: str,
    our_as2_id: str,
    their_as2_id: str,
    received_mic: str | None = None,
    error: Disposition | None = None,
    error_text: str | None = None,
    signer: Signer | None = None,
    date: dt.datetime | None = None,
    reporting_ua: str = REPORTING_UA,
) -> OutboundMdn:
    """Build an MDN for a message we received (``error`` None: processed), signed when ``signer`` is given."""
    original = bare_message_id(original_message_id)
    disposition = _PROCESSED if error is None else f"{_PROCESSED}/error: {error.value}"
    text = (
        _TEXT_OK.format(mid=f"<{original}>")
        if error is None
        else _TEXT_ERROR.format(mid=f"<{original}>", error=error_text or error.value)
    )
    fields = [
        ("Reporting-UA", reporting_ua),
        ("Original-Recipient", f"rfc822; {our_as2_id}"),
        ("Final-Recipient", f"rfc822; {our_as2_id}"),
        ("Original-Message-ID", f"<{original}>"),
    ]
    if received_mic:
        fields.append(("Received-Content-MIC", received_mic))
    fields.append(("Disposition", disposition))
    notification = "".join(f"{k}: {_one_line(v)}\r\n" for k, v in fields).encode("utf-8")
    text_part = build_entity(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")],
        _one_line(text).encode("utf-8") + b"\r\n",
    )
    dn_part = build_entity(
        [("Content-Type", "message/disposition-notification"), ("Content-Transfer-Encoding", "8bit")],
        notification,
    )
    seed = f"mdn:{mdn_message_id}:{original}".encode()
    content_type, body = build_multipart(
        "multipart/report", make_boundary(seed, text_part + dn_part), [text_part, dn_part],
        params="report-type=disposition-notification",
    )
    entity = build_entity([("Content-Type", content_type)], body)
    if signer is not None:
        entity, _ = sign_entity(entity, signer, seed + b":signed")
    outer = parse_entity(entity)
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": quote_as2_name(our_as2_id),
        "AS2-To": quote_as2_name(their_as2_id),
        "Message-ID": f"<{bare_message_id(mdn_message_id)}>",
        "Subject": "Message Disposition Notification",
        "MIME-Version": "1.0",
        "Content-Type": " ".join(str(outer.headers["Content-Type"]).split()),
    }
    if date is not None:
        headers["Date"] = email.utils.format_datetime(date)
    return OutboundMdn(headers=headers, body=outer.body)


def _one_line(value: str) -> str:
    """A header or text value with line breaks folded away (no header injection from error texts)."""
    return " ".join(value.split())


@dataclass(frozen=True, slots=True)
class ReceivedMdn:
    """What a partner's MDN says about a message we sent."""

    original_message_id: str  # bare
    disposition: str  # the whole Disposition field
    status: str  # "processed", "processed/error", "processed/warning", "failed", ...
    modifier: str | None  # "authentication-failed", ... after "error:" / "warning:" / "failure:"
    received_mic: str | None
    mic_matches: bool | None  # None when we had no MIC to compare with
    signed: bool
    as2_from: str
    as2_to: str
    reporting_ua: str | None
    text: str

    @property
    def is_success(self) -> bool:
        """True when the partner processed the message without error and the MIC matched (if compared)."""
        return self.status == "processed" and self.mic_matches is not False


def parse_mdn(
    headers: Mapping[str, str],
    body: bytes,
    *,
    their_certs: Sequence[x509.Certificate],
    expected_message_id: str | None = None,
    expected_mic: str | None = None,
    require_signature: bool = True,
) -> ReceivedMdn:
    """Read and verify a partner's MDN (sync response or async POST) for a message we sent."""
    lower = {k.lower(): v for k, v in headers.items()}
    entity = entity_from_http(headers, body)
    signed = False
    if entity.content_type == "multipart/signed":
        entity, _ = verify_signed(entity, their_certs)
        signed = True
    elif require_signature:
        raise As2Error(Disposition.INSUFFICIENT_MESSAGE_SECURITY, f"MDN is not signed (it is {entity.content_type})")
    if entity.content_type != "multipart/report":
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"MDN is {entity.content_type}, not multipart/report")
    boundary = entity.param("boundary")
    if not boundary:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "MDN multipart/report has no boundary")
    parts = [parse_entity(p) for p in split_multipart(entity.body, boundary)]
    notification = next((p for p in parts if p.content_type == "message/disposition-notification"), None)
    if notification is None:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "MDN has no message/disposition-notification part")
    fields = _notification_fields(notification)
    text = next((p.decoded_body().decode("utf-8", "replace") for p in parts if p.content_type == "text/plain"), "")
    original = bare_message_id(fields.get("original-message-id", ""))
    if expected_message_id is not None and original != bare_message_id(expected_message_id):
        raise As2Error(
            Disposition.UNEXPECTED_PROCESSING_ERROR,
            f"MDN is for message <{original}>, expected <{bare_message_id(expected_message_id)}>",
        )
    disposition = fields.get("disposition", "")
    if not disposition:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "MDN has no Disposition field")
    status, modifier = _split_disposition(disposition)
    received_mic = fields.get("received-content-mic")
    mic_matches = None if expected_mic is None else mics_equal(received_mic, expected_mic)
    return ReceivedMdn(
        original_message_id=original,
        disposition=disposition,
        status=status,
        modifier=modifier,
        received_mic=received_mic,
        mic_matches=mic_matches,
        signed=signed,
        as2_from=unquote_as2_name(lower.get("as2-from", "")),
        as2_to=unquote_as2_name(lower.get("as2-to", "")),
        reporting_ua=fields.get("reporting-ua"),
        text=text.strip(),
    )


def _notification_fields(part: MimeEntity) -> dict[str, str]:
    """The fields of a message/disposition-notification body, lower-case names, continuation lines joined."""
    text = part.decoded_body().decode("utf-8", "replace")
    fields: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            fields[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            last = name.strip().lower()
            fields[last] = value.strip()
    return fields


def _split_disposition(disposition: str) -> tuple[str, str | None]:
    """``automatic-action/MDN-sent-automatically; processed/error: decryption-failed``
    -> (``processed/error``, ``decryption-failed``)."""
    _, _, type_part = disposition.partition(";")
    type_part = type_part.strip() or disposition.strip()
    status, _, modifier = type_part.partition(":")
    return status.strip().lower(), (modifier.strip().lower() or None)
