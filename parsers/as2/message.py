"""AS2 messages (RFC 4130): build one to POST, and open one that was POSTed to us.

Rules:
- Building layers the payload as: MIME entity -> compressed (RFC 5402, before signing) ->
  multipart/signed (detached) -> enveloped-data. The caller passes the Message-ID and the date;
  this module reads no clock and opens no socket.
- Receiving peels the layers in whatever order the partner used (at most ``_MAX_LAYERS``), verifies
  the signature over the signed part exactly as it arrived (then CRLF-canonicalised, for senders
  that signed in text mode), then applies the policy (signature/encryption required).
- The MIC (RFC 4130 7.3.1) is taken over the signed entity when signed, over the decrypted entity
  when only encrypted, and over the payload alone otherwise; it is ``"<base64>, <algorithm>"``.
- Partner and key lookup enters only through the ``PartnerLookup`` callback.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from parsers.as2 import cms
from parsers.as2.certs import PrivateKey
from parsers.as2.errors import As2Error, Disposition, MdnRequest
from parsers.as2.mime import (
    MimeEntity,
    base64_lines,
    build_entity,
    build_multipart,
    entity_from_http,
    parse_entity,
    quote_param,
    split_multipart,
    to_crlf,
)

AS2_VERSION = "1.2"
_MAX_LAYERS = 6
_PKCS7_MIME = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_PKCS7_SIGNATURE = ("application/pkcs7-signature", "application/x-pkcs7-signature")


# --------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True, slots=True)
class Signer:
    """Our signing certificate and key, and the digest to sign with."""

    cert: x509.Certificate
    key: PrivateKey
    digest: str = "sha256"


def format_mic(mic: bytes, algorithm: str) -> str:
    """The ``Received-Content-MIC`` value: ``"<base64>, sha256"``."""
    return f"{base64.b64encode(mic).decode('ascii')}, {cms.normalise_digest(algorithm)}"


def parse_mic(value: str) -> tuple[str, str] | None:
    """``"<base64>, sha-256"`` -> (base64, normalised algorithm); None when it is not of that shape."""
    mic, sep, algorithm = value.strip().partition(",")
    if not sep or not mic.strip() or not algorithm.strip():
        return None
    return mic.strip(), cms.normalise_digest(algorithm)


def mics_equal(a: str | None, b: str | None) -> bool:
    """True when two MIC strings carry the same digest and algorithm (spelling of the name aside)."""
    pa, pb = parse_mic(a or ""), parse_mic(b or "")
    return pa is not None and pa == pb


def quote_as2_name(name: str) -> str:
    """An AS2-From/AS2-To value: quoted when it holds spaces or quotes (RFC 4130 6.2)."""
    if any(ch in name for ch in ' "\\'):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def unquote_as2_name(value: str) -> str:
    """An AS2-From/AS2-To header value without its quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def bare_message_id(value: str) -> str:
    """A Message-ID without whitespace and angle brackets (how we store and compare them)."""
    return value.strip().removeprefix("<").removesuffix(">").strip()


def make_boundary(seed: bytes, content: bytes) -> str:
    """A boundary derived from the message (no randomness needed) that does not occur in ``content``."""
    for counter in range(100):
        boundary = "----=_AS2_" + hashlib.sha256(seed + bytes([counter])).hexdigest()[:32]
        if boundary.encode("ascii") not in content:
            return boundary
    raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "no usable MIME boundary", remote=False)


def sign_entity(entity: bytes, signer: Signer, seed: bytes) -> tuple[bytes, bytes]:
    """Wrap a MIME entity in multipart/signed; returns (the new entity, the MIC digest over ``entity``)."""
    algorithm = cms.normalise_digest(signer.digest)
    signature = cms.sign_detached(entity, signer.cert, signer.key, algorithm)
    sig_part = build_entity(
        [
            ("Content-Type", "application/pkcs7-signature; name=smime.p7s; smime-type=signed-data"),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", "attachment; filename=smime.p7s"),
        ],
        base64_lines(signature),
    )
    content_type, body = build_multipart(
        "multipart/signed",
        make_boundary(seed, entity),
        [entity, sig_part],
        params=f'protocol="application/pkcs7-signature"; micalg={cms.MICALG_NAMES[algorithm]}',
    )
    return build_entity([("MIME-Version", "1.0"), ("Content-Type", content_type)], body), cms.digest(
        algorithm, entity
    )


def split_signed(entity: MimeEntity) -> tuple[bytes, bytes]:
    """(raw signed part, DER signature) of a multipart/signed entity, exactly as received."""
    boundary = entity.param("boundary")
    if not boundary:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "multipart/signed without a boundary parameter")
    parts = split_multipart(entity.body, boundary)
    if len(parts) != 2:
        raise As2Error(
            Disposition.UNEXPECTED_PROCESSING_ERROR, f"multipart/signed has {len(parts)} parts, expected 2"
        )
    sig_entity = parse_entity(parts[1])
    if sig_entity.content_type not in _PKCS7_SIGNATURE:
        raise As2Error(
            Disposition.AUTHENTICATION_FAILED,
            f"second part of multipart/signed is {sig_entity.content_type}, not application/pkcs7-signature",
        )
    try:
        signature = sig_entity.decoded_body()
    except As2Error as exc:
        raise As2Error(Disposition.AUTHENTICATION_FAILED, f"signature part: {exc.message}") from None
    return parts[0], signature


def verify_signed(entity: MimeEntity, certs: Sequence[x509.Certificate]) -> tuple[MimeEntity, cms.VerifiedSignature]:
    """Verify a multipart/signed entity; returns the signed part (as verified) and the signature facts."""
    signed_raw, signature = split_signed(entity)
    candidates = [signed_raw]
    canonical = to_crlf(signed_raw)
    if canonical != signed_raw:
        candidates.append(canonical)
    verified = cms.verify_detached(signature, candidates, certs)
    return parse_entity(verified.content), verified


# --------------------------------------------------------------------------- building


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What to POST: the HTTP headers, the body, and the MIC to expect back in the MDN."""

    headers: dict[str, str]
    body: bytes
    mic: str  # "<base64>, sha256"
    message_id: str  # bare, without angle brackets


def build_message(
    payload: bytes,
    *,
    as2_from: str,
    as2_to: str,
    message_id: str,
    content_type: str = "application/edi-x12",
    filename: str | None = None,
    subject: str = "EDI message",
    date: dt.datetime | None = None,
    signer: Signer | None = None,
    encrypt_to: Sequence[x509.Certificate] = (),
    encryption_algorithm: str = "aes256_cbc",
    compress: bool = False,
    mdn_to: str | None = None,
    mdn_signed: bool = True,
    mdn_micalg: str | None = None,
    async_mdn_url: str | None = None,
) -> OutboundMessage:
    """Build an AS2 message: payload -> [compressed] -> [signed] -> [encrypted] with its AS2 headers.

    ``mdn_to`` (any address, e.g. an e-mail) asks for an MDN; ``async_mdn_url`` asks for it asynchronously.
    """
    bare_id = bare_message_id(message_id)
    seed = bare_id.encode("utf-8", "replace") + hashlib.sha256(payload).digest()
    headers = [("Content-Type", content_type), ("Content-Transfer-Encoding", "binary")]
    if filename:
        headers.append(("Content-Disposition", f"attachment; filename={quote_param(filename)}"))
    entity = build_entity(headers, payload)
    mic_algorithm = cms.normalise_digest(mdn_micalg or (signer.digest if signer else "sha256"))
    mic = cms.digest(mic_algorithm, payload)
    if compress:
        entity = build_entity(
            [
                ("Content-Type", "application/pkcs7-mime; smime-type=compressed-data; name=smime.p7z"),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", "attachment; filename=smime.p7z"),
            ],
            base64_lines(cms.compress(entity)),
        )
    if signer is not None:
        mic = cms.digest(mic_algorithm, entity)
        entity, _ = sign_entity(entity, signer, seed)
    elif encrypt_to:
        mic = cms.digest(mic_algorithm, entity)
    if encrypt_to:
        entity = build_entity(
            [
                ("Content-Type", "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m"),
                ("Content-Transfer-Encoding", "binary"),
                ("Content-Disposition", "attachment; filename=smime.p7m"),
            ],
            cms.encrypt_enveloped(entity, encrypt_to, encryption_algorithm),
        )
    outer = parse_entity(entity)
    http: dict[str, str] = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": quote_as2_name(as2_from),
        "AS2-To": quote_as2_name(as2_to),
        "Message-ID": f"<{bare_id}>",
        "Subject": subject,
        "MIME-Version": "1.0",
    }
    if date is not None:
        http["Date"] = email.utils.format_datetime(date)
    for name in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
        value = outer.headers.get(name)
        if value is not None:
            http[name] = " ".join(str(value).split())
    if mdn_to:
        http["Disposition-Notification-To"] = mdn_to
        if mdn_signed:
            http["Disposition-Notification-Options"] = (
                "signed-receipt-protocol=optional, pkcs7-signature; "
                f"signed-receipt-micalg=optional, {cms.MICALG_NAMES.get(mic_algorithm, mic_algorithm)}"
            )
        if async_mdn_url:
            http["Receipt-Delivery-Option"] = async_mdn_url
    return OutboundMessage(headers=http, body=outer.body, mic=format_mic(mic, mic_algorithm), message_id=bare_id)


# --------------------------------------------------------------------------- receiving


@dataclass(frozen=True, slots=True)
class ReceivePolicy:
    """What we insist on for inbound messages."""

    require_signature: bool = True
    require_encryption: bool = True
    max_decompressed_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class As2Partner:
    """One trading relationship as the codec sees it: their certificates, our key pair, their policy."""

    their_certs: Sequence[x509.Certificate]  # signing certificates (several during a rollover)
    our_certs: Sequence[x509.Certificate] = ()
    our_keys: Sequence[PrivateKey] = ()  # decryption keys (old and new during a rollover)
    policy: ReceivePolicy | None = None  # None: the policy passed to receive_message


PartnerLookup = Callable[[str, str], As2Partner | None]
"""(AS2-From, AS2-To) -> the relationship, or None when we have none with that pair."""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """An AS2 message opened, verified and accepted: the payload and the facts for the MDN."""

    payload: bytes
    filename: str | None
    content_type: str
    message_id: str  # bare, without angle brackets
    as2_from: str
    as2_to: str
    signed: bool
    encrypted: bool
    compressed: bool
    mic: str  # "<base64>, sha256": the Received-Content-MIC for the MDN
    mic_algorithm: str
    mdn_request: MdnRequest | None
    signer: x509.Certificate | None = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_mdn_request(headers: Mapping[str, str]) -> MdnRequest | None:
    """The MDN request of a message's headers (lower-case keys), or None when none was asked for."""
    address = headers.get("disposition-notification-to", "").strip()
    if not address:
        return None
    signed = required = False
    micalgs: list[str] = []
    for clause in headers.get("disposition-notification-options", "").split(";"):
        name, _, rest = clause.partition("=")
        values = [v.strip().lower() for v in rest.split(",") if v.strip()]
        importance, values = (values[0], values[1:]) if values else ("optional", [])
        if name.strip().lower() == "signed-receipt-protocol":
            signed = any(v in ("pkcs7-signature", "application/pkcs7-signature") for v in values)
            required = signed and importance == "required"
        elif name.strip().lower() == "signed-receipt-micalg":
            micalgs = [cms.normalise_digest(v) for v in values]
    async_url = headers.get("receipt-delivery-option", "").strip() or None
    return MdnRequest(address, signed, required, tuple(micalgs), async_url)


def _choose_mic_algorithm(request: MdnRequest | None, fallback: str) -> str:
    """The first MIC algorithm the sender asked for that we support, else ``fallback``."""
    for name in request.micalgs if request else ():
        if name in cms.DIGESTS:
            return name
    return fallback


def receive_message(
    headers: Mapping[str, str],
    body: bytes,
    lookup: PartnerLookup,
    policy: ReceivePolicy = ReceivePolicy(),
) -> InboundMessage:
    """Open an AS2 POST: find the partner, decrypt, verify, decompress, apply the policy.

    Raises ``As2Error`` (carrying the Message-ID, AS2 names and MDN request when known).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    message_id = bare_message_id(lower.get("message-id", ""))
    as2_from = unquote_as2_name(lower.get("as2-from", ""))
    as2_to = unquote_as2_name(lower.get("as2-to", ""))
    mdn_request = parse_mdn_request(lower)
    try:
        return _receive(headers, lower, body, lookup, policy, message_id, as2_from, as2_to, mdn_request)
    except As2Error as exc:
        raise exc.with_context(
            message_id=message_id or None, as2_from=as2_from or None, as2_to=as2_to or None,
            mdn_request=mdn_request,
        ) from None


def _receive(
    headers: Mapping[str, str],
    lower: Mapping[str, str],
    body: bytes,
    lookup: PartnerLookup,
    default_policy: ReceivePolicy,
    message_id: str,
    as2_from: str,
    as2_to: str,
    mdn_request: MdnRequest | None,
) -> InboundMessage:
    """The body of ``receive_message``, free to raise bare ``As2Error``s."""
    for name, value in (("AS2-From", as2_from), ("AS2-To", as2_to), ("Message-ID", message_id)):
        if not value:
            raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"request has no {name} header")
    partner = lookup(as2_from, as2_to)
    if partner is None:
        raise As2Error(
            Disposition.UNKNOWN_TRADING_PARTNER,
            f"no trading partner with AS2-From {as2_from!r} sending to AS2-To {as2_to!r}",
        )
    policy = partner.policy or default_policy
    entity = entity_from_http(headers, body)
    signed = encrypted = compressed = False
    signature: cms.VerifiedSignature | None = None
    mic_source: bytes | None = None
    for _ in range(_MAX_LAYERS):
        kind = entity.content_type
        if kind in _PKCS7_MIME:
            declared = (entity.param("smime-type") or "").lower()
            try:
                der = entity.decoded_body()
            except As2Error as exc:
                failed = _LAYER_FAILURE.get(declared, exc.disposition)
                raise As2Error(failed, f"{declared or 'pkcs7-mime'} body: {exc.message}") from None
            smime_type = declared or _sniff_smime_type(der)
            if smime_type == "enveloped-data":
                if encrypted:
                    raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "message is encrypted twice")
                entity = parse_entity(cms.decrypt_enveloped(der, partner.our_certs, partner.our_keys))
                encrypted = True
                if mic_source is None and not signed:
                    mic_source = entity.raw
            elif smime_type == "compressed-data":
                if compressed:
                    raise As2Error(Disposition.DECOMPRESSION_FAILED, "message is compressed twice")
                entity = parse_entity(cms.decompress(der, policy.max_decompressed_bytes))
                compressed = True
            else:
                raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"unsupported smime-type {smime_type!r}")
        elif kind == "multipart/signed":
            if signed:
                raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "message is signed twice")
            entity, signature = verify_signed(entity, partner.their_certs)
            signed = True
            mic_source = signature.content
        else:
            break
    else:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"more than {_MAX_LAYERS} MIME layers")
    if policy.require_encryption and not encrypted:
        raise As2Error(Disposition.INSUFFICIENT_MESSAGE_SECURITY, "message is not encrypted; this partner must encrypt")
    if policy.require_signature and not signed:
        raise As2Error(Disposition.INSUFFICIENT_MESSAGE_SECURITY, "message is not signed; this partner must sign")
    payload = entity.decoded_body()
    mic_algorithm = _choose_mic_algorithm(mdn_request, signature.digest_algorithm if signature else "sha256")
    mic = cms.digest(mic_algorithm, payload if mic_source is None else mic_source)
    return InboundMessage(
        payload=payload,
        filename=entity.filename,
        content_type=entity.content_type,
        message_id=message_id,
        as2_from=as2_from,
        as2_to=as2_to,
        signed=signed,
        encrypted=encrypted,
        compressed=compressed,
        mic=format_mic(mic, mic_algorithm),
        mic_algorithm=mic_algorithm,
        mdn_request=mdn_request,
        signer=signature.signer if signature else None,
        headers=dict(headers),
    )


_LAYER_FAILURE = {
    "enveloped-data": Disposition.DECRYPTION_FAILED,
    "compressed-data": Disposition.DECOMPRESSION_FAILED,
}
"""The disposition for an S/MIME layer whose body cannot even be decoded."""

_SMIME_BY_OID_TYPE = {
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03": "enveloped-data",
    b"\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x09": "compressed-data",
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02": "signed-data",
}


def _sniff_smime_type(der: bytes) -> str:
    """The smime-type of a pkcs7-mime body that did not say: from the ContentInfo's content type OID."""
    head = der[:32]
    for oid, name in _SMIME_BY_OID_TYPE.items():
        if oid in head:
            return name
    raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "application/pkcs7-mime body of unknown CMS type")
