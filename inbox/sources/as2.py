"""AS2 receiver glue: a partner's keys for the codec, and a verified AS2 message as a RawDocument.

Rules:
- The HTTP side (gateway.http) reads the request; the codec (parsers.as2) opens and verifies it;
  this module only turns the result into what the Lander takes, and knows nothing of HTTP.
- ``transport_id`` is ``<partner id>/<Message-ID>``: the Lander is idempotent on it, so a re-sent
  message lands once; scoping by partner stops one partner from pre-empting another's ids.
- File names come from the partner (Content-Disposition) and are not trusted: anything that is
  not a plain name is replaced by one made from the Message-ID.
- Key files are read here (I/O); the bytes are decoded by ``parsers.as2.load_key_material``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from inbox.base import RawDocument
from parsers.as2 import (
    As2Error,
    As2Partner,
    Disposition,
    InboundMessage,
    KeyMaterialError,
    PrivateKey,
    ReceivePolicy,
    Signer,
    load_key_material,
)
from parsers.as2.mime import entity_from_http, parse_entity, split_multipart
from partners.profile import As2Transport, PartnerProfile

_EXTENSIONS = {
    "application/edi-x12": "x12",
    "application/edifact": "edi",
    "application/edi-consent": "edi",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "application/json": "json",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class As2Keys:
    """One relationship's key material: their signing certificates, our certificates and keys."""

    their_certs: tuple[x509.Certificate, ...]
    their_encryption_cert: x509.Certificate | None
    our_certs: tuple[x509.Certificate, ...]
    our_keys: tuple[PrivateKey, ...]

    def signer(self, digest: str) -> Signer | None:
        """Our signing identity (first certificate and key), or None when we have no key pair."""
        if not self.our_certs or not self.our_keys:
            return None
        return Signer(self.our_certs[0], self.our_keys[0], digest)

    def all_certificates(self) -> list[x509.Certificate]:
        """Every certificate of the relationship (for expiry checks)."""
        extra = [self.their_encryption_cert] if self.their_encryption_cert is not None else []
        return [*self.their_certs, *extra, *self.our_certs]


def _read(path: Path, what: str, password: bytes | None = None) -> tuple[list[x509.Certificate], list[PrivateKey]]:
    """Certificates and keys of one key file; KeyMaterialError naming the file when it cannot be used."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyMaterialError(f"{what} {path}: cannot be read: {exc.strerror or exc}") from None
    try:
        material = load_key_material(data, password)
    except KeyMaterialError as exc:
        raise KeyMaterialError(f"{what} {path}: {exc}") from None
    return list(material.certificates), list(material.private_keys)


def load_as2_keys(transport: As2Transport, environ: Mapping[str, str] | None = None) -> As2Keys:
    """Read the certificate and key files a profile names; raises KeyMaterialError naming the file."""
    env = os.environ if environ is None else environ
    password: bytes | None = None
    if transport.our_key_password_env:
        value = env.get(transport.our_key_password_env)
        if value is None:
            raise KeyMaterialError(f"environment variable {transport.our_key_password_env} (our key password) is unset")
        password = value.encode("utf-8")
    their: list[x509.Certificate] = []
    for path in transport.their_signing_certs:
        their += _read(path, "their signing certificate")[0]
    encryption = None
    if transport.their_encryption_cert is not None:
        certs = _read(transport.their_encryption_cert, "their encryption certificate")[0]
        if not certs:
            raise KeyMaterialError(f"their encryption certificate {transport.their_encryption_cert}: no certificate")
        encryption = certs[0]
    our_certs: list[x509.Certificate] = []
    our_keys: list[PrivateKey] = []
    if transport.our_key is not None:
        certs, keys = _read(transport.our_key, "our key", password)
        our_certs += certs
        our_keys += keys
    if transport.our_cert is not None:
        certs = _read(transport.our_cert, "our certificate", password)[0]
        our_certs = certs + [c for c in our_certs if c not in certs]
    return As2Keys(tuple(their), encryption, tuple(our_certs), tuple(our_keys))


def as2_transport_of(partner: PartnerProfile, as2_from: str | None = None) -> As2Transport | None:
    """The partner's AS2 relationship (inbound first, then outbound), optionally the one for ``as2_from``."""
    for t in [*partner.inbound, *([partner.outbound] if partner.outbound else [])]:
        if isinstance(t, As2Transport) and (as2_from is None or t.as2_id == as2_from):
            return t
    return None


def codec_partner(transport: As2Transport, keys: As2Keys) -> As2Partner:
    """The relationship as ``parsers.as2.receive_message`` sees it, with the profile's policy."""
    policy = ReceivePolicy(require_signature=transport.require_signature,
                           require_encryption=transport.require_encryption,
                           max_decompressed_bytes=transport.max_decompressed_bytes)
    return As2Partner(their_certs=keys.their_certs, our_certs=keys.our_certs, our_keys=keys.our_keys,
                      policy=policy)


def safe_filename(name: str | None, message_id: str, content_type: str) -> str:
    """A plain file name for the landed payload: the partner's, cleaned, or one from the Message-ID."""
    if name:
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base not in ("", ".", "..") and not any(ord(c) < 32 or ord(c) == 127 for c in base):
            cleaned = _SAFE_NAME.sub("_", base).strip("._")
            if cleaned:
                return cleaned[:MAX_NAME_CHARS]
    stem = _SAFE_NAME.sub("_", message_id).strip("._")[:80] or hashlib.sha256(message_id.encode()).hexdigest()[:16]
    return f"{stem}.{_EXTENSIONS.get(content_type.lower(), 'dat')}"


def transport_id_for(partner_id: str, message_id: str) -> str:
    """The Lander's idempotency key for an AS2 message of this partner."""
    return f"{partner_id}/{message_id}"


def raw_document(message: InboundMessage, partner_id: str, received_at: dt.datetime) -> RawDocument:
    """The RawDocument to land for a verified AS2 message."""
    metadata = {
        "as2_from": message.as2_from,
        "as2_to": message.as2_to,
        "message_id": message.message_id,
        "mic": message.mic,
        "content_type": message.content_type,
        "signed": str(message.signed).lower(),
        "encrypted": str(message.encrypted).lower(),
        "compressed": str(message.compressed).lower(),
    }
    lower = {k.lower(): v for k, v in message.headers.items()}
    for header in ("subject", "date", "as2-version", "user-agent", "server", "ediint-features"):
        if header in lower:
            metadata[header.replace("-", "_")] = " ".join(lower[header].split())[:500]
    if message.filename:
        metadata["original_filename"] = message.filename[:500]
    if message.signer is not None:
        metadata["signer"] = message.signer.subject.rfc4514_string()[:500]
    return RawDocument(
        transport="as2",
        transport_id=transport_id_for(partner_id, message.message_id),
        filename=safe_filename(message.filename, message.message_id, message.content_type),
        received_at=received_at,
        body=message.payload,
        partner_hint=partner_id,
        metadata=metadata,
    )


def is_mdn(headers: Mapping[str, str], body: bytes) -> bool:
    """True when a POST carries an MDN (multipart/report, possibly signed) rather than an AS2 message."""
    try:
        entity = entity_from_http(headers, body)
        if entity.content_type == "multipart/report":
            return True
        if entity.content_type == "multipart/signed":
            boundary = entity.param("boundary")
            if boundary:
                return parse_entity(split_multipart(body, boundary)[0]).content_type == "multipart/report"
    except As2Error:
        return False
    return False


def config_error(message: str) -> As2Error:
    """An As2Error that is our fault (our configuration), not the partner's."""
    return As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, message, remote=False)
