"""AS2 dispositions (RFC 4130 section 7.4.3, RFC 5402) and the one error type of the codec.

Rules:
- Every problem with a partner's message becomes an ``As2Error`` whose ``disposition`` is the
  value an MDN reports back (``processed/error: <disposition>``); nothing else escapes.
- ``remote`` says whose fault it is: ``True`` for the partner's data, ``False`` for our own
  configuration (no private key to decrypt with, no certificate to sign with).
- Problems with key material we were given (a PEM that is not a PEM) are ``KeyMaterialError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Disposition(StrEnum):
    """The disposition modifiers an AS2 MDN carries after ``processed/error:``."""

    AUTHENTICATION_FAILED = "authentication-failed"
    DECRYPTION_FAILED = "decryption-failed"
    DECOMPRESSION_FAILED = "decompression-failed"
    INTEGRITY_CHECK_FAILED = "integrity-check-failed"
    INSUFFICIENT_MESSAGE_SECURITY = "insufficient-message-security"
    UNEXPECTED_PROCESSING_ERROR = "unexpected-processing-error"
    UNKNOWN_TRADING_PARTNER = "unknown-trading-partner"
    DUPLICATE_DOCUMENT = "duplicate-document"


@dataclass(frozen=True, slots=True)
class MdnRequest:
    """What the sender asked for in Disposition-Notification-To / -Options / Receipt-Delivery-Option."""

    address: str  # Disposition-Notification-To (an address or URL; AS2 ignores the value)
    signed: bool = False  # signed-receipt-protocol asks for pkcs7-signature
    signature_required: bool = False  # ... with importance "required"
    micalgs: tuple[str, ...] = ()  # signed-receipt-micalg, normalised: "sha256", "sha1"
    async_url: str | None = None  # Receipt-Delivery-Option: send the MDN there, not in the response

    @property
    def is_async(self) -> bool:
        """True when the MDN goes out in a separate HTTP request to ``async_url``."""
        return bool(self.async_url)


class As2Error(Exception):
    """A message or MDN that cannot be accepted; ``disposition`` is what the MDN tells the partner."""

    def __init__(
        self,
        disposition: Disposition,
        message: str,
        *,
        remote: bool = True,
        message_id: str | None = None,
        as2_from: str | None = None,
        as2_to: str | None = None,
        mdn_request: MdnRequest | None = None,
    ) -> None:
        super().__init__(f"{disposition.value}: {message}")
        self.disposition = disposition
        self.message = message
        self.remote = remote
        self.message_id = message_id
        self.as2_from = as2_from
        self.as2_to = as2_to
        self.mdn_request = mdn_request

    def with_context(
        self,
        *,
        message_id: str | None,
        as2_from: str | None,
        as2_to: str | None,
        mdn_request: MdnRequest | None,
    ) -> As2Error:
        """The same error carrying the message's identity, so the caller can still answer with an MDN."""
        return As2Error(
            self.disposition,
            self.message,
            remote=self.remote,
            message_id=self.message_id or message_id,
            as2_from=self.as2_from or as2_from,
            as2_to=self.as2_to or as2_to,
            mdn_request=self.mdn_request or mdn_request,
        )


class KeyMaterialError(ValueError):
    """Certificates or keys we were given cannot be read (wrong format, wrong password)."""
