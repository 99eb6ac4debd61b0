"""Just enough MIME for AS2, working on the raw bytes.

Rules:
- A signature covers the signed part exactly as it was sent, so parts are cut out of the body
  by their boundaries and kept byte for byte; nothing is re-serialised by ``email.generator``.
- Headers are read with the stdlib ``email`` header parser (lenient, compat32 policy); bodies
  are never parsed by it.
- Bodies we build use CRLF line ends and ``binary`` or ``base64`` transfer encoding.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import quopri
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from parsers.as2.errors import As2Error, Disposition

_HEADER_PARSER = BytesHeaderParser(policy=policy.compat32)
_BARE_LF = re.compile(rb"(?<!\r)\n")


@dataclass(frozen=True, slots=True)
class MimeEntity:
    """One MIME entity: its raw bytes, its parsed headers and its (still transfer-encoded) body."""

    raw: bytes
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        """The lower-case ``type/subtype`` (``text/plain`` when absent, as RFC 2045 says)."""
        return self.headers.get_content_type()

    def param(self, name: str) -> str | None:
        """A Content-Type parameter (``boundary``, ``smime-type``, ``micalg``...), unquoted."""
        value = self.headers.get_param(name)
        if value is None or isinstance(value, tuple):
            return None if value is None else str(value[2])
        return str(value)

    @property
    def filename(self) -> str | None:
        """The filename from Content-Disposition (or the Content-Type ``name``), without directories."""
        name = self.headers.get_filename() or self.param("name")
        if not name:
            return None
        name = re.split(r"[\\/]", name)[-1]
        name = "".join(ch for ch in name if ch.isprintable()).strip()
        return name or None

    @property
    def transfer_encoding(self) -> str:
        """The Content-Transfer-Encoding, lower-case (``binary`` when absent)."""
        return str(self.headers.get("Content-Transfer-Encoding", "binary")).strip().lower()

    def decoded_body(self) -> bytes:
        """The body with its transfer encoding undone; bad base64 is the partner's error."""
        return decode_transfer_encoding(self.body, self.transfer_encoding)


def decode_transfer_encoding(body: bytes, encoding: str) -> bytes:
    """Undo base64 / quoted-printable; 7bit, 8bit and binary pass through."""
    if encoding == "base64":
        compact = b"".join(body.split())
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise As2Error(
                Disposition.UNEXPECTED_PROCESSING_ERROR, "body is declared base64 but is not valid base64"
            ) from None
    if encoding == "quoted-printable":
        return quopri.decodestring(body)
    if encoding in ("7bit", "8bit", "binary", ""):
        return body
    raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"unknown Content-Transfer-Encoding {encoding!r}")


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    """Split an entity at its first empty line into (header block, body)."""
    if raw.startswith(b"\r\n"):
        return b"", raw[2:]
    if raw.startswith(b"\n"):
        return b"", raw[1:]
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n")
    if crlf < 0 and lf < 0:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "MIME entity has no blank line after its headers")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return raw[: crlf + 2], raw[crlf + 4 :]
    return raw[: lf + 1], raw[lf + 2 :]


def parse_entity(raw: bytes) -> MimeEntity:
    """Read a MIME entity (headers, blank line, body) without touching the body bytes."""
    head, body = _split_head(raw)
    return MimeEntity(raw=raw, headers=_HEADER_PARSER.parsebytes(head), body=body)


def entity_from_http(headers: Mapping[str, str], body: bytes) -> MimeEntity:
    """The MIME entity an HTTP request carries: its Content-* headers plus the body."""
    lines = [f"{k}: {v}" for k, v in headers.items() if k.lower().startswith("content-")]
    if not any(k.lower() == "content-type" for k in headers):
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "request has no Content-Type header")
    head = ("\r\n".join(lines) + "\r\n").encode("latin-1", "replace")
    return MimeEntity(raw=head + b"\r\n" + body, headers=_HEADER_PARSER.parsebytes(head), body=body)


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The raw bytes of each body part of a multipart body (RFC 2046 5.1.1), preamble and epilogue dropped.

    The line break before a delimiter belongs to the delimiter, so a part's bytes end just before it.
    """
    delimiter = b"--" + boundary.encode("latin-1")
    starts: list[int] = []  # index of each "--boundary" that begins a line
    if body.startswith(delimiter):
        pos = 0
    else:
        first = body.find(b"\n" + delimiter)
        pos = first + 1 if first >= 0 else -1
    while pos >= 0:
        after = body[pos + len(delimiter) : pos + len(delimiter) + 2]
        if after == b"--" or after[:1] in (b"", b"\r", b"\n", b" ", b"\t"):
            starts.append(pos)
            if after == b"--":
                break
        nxt = body.find(b"\n" + delimiter, pos + 1)
        pos = nxt + 1 if nxt >= 0 else -1
    if not starts or body[starts[-1] + len(delimiter) : starts[-1] + len(delimiter) + 2] != b"--":
        raise As2Error(
            Disposition.UNEXPECTED_PROCESSING_ERROR,
            f"multipart body has no closing boundary --{boundary}--",
        )
    parts: list[bytes] = []
    for begin, end in itertools.pairwise(starts):
        line_end = body.find(b"\n", begin)
        if line_end < 0 or line_end >= end:
            raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "malformed multipart delimiter line")
        stop = end - 1
        if stop > 0 and body[stop - 1 : stop] == b"\r":
            stop -= 1
        parts.append(body[line_end + 1 : max(stop, line_end + 1)])
    return parts


def to_crlf(data: bytes) -> bytes:
    """Canonical text form: every bare LF becomes CRLF (S/MIME text canonicalisation)."""
    return _BARE_LF.sub(b"\r\n", data)


def quote_param(value: str) -> str:
    """A MIME parameter value, quoted when it contains anything but token characters."""
    if value and re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_entity(headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """Serialise headers and body as a MIME entity with CRLF line ends."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("utf-8") + b"\r\n" + body


def base64_lines(data: bytes) -> bytes:
    """Base64 in 76-character CRLF lines, as MIME wants it."""
    text = base64.b64encode(data)
    return b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + b"\r\n"


def build_multipart(content_type: str, boundary: str, parts: Iterable[bytes], params: str = "") -> tuple[str, bytes]:
    """(Content-Type value, body) of a multipart entity made of raw parts."""
    delim = b"--" + boundary.encode("ascii")
    body = b"".join(delim + b"\r\n" + part + b"\r\n" for part in parts) + delim + b"--\r\n"
    return f"{content_type}; {params}{'; ' if params else ''}boundary={quote_param(boundary)}", body
