"""AS2 (RFC 4130) codec: S/MIME sign/encrypt/compress, receive and verify, MDNs, key material.

Pure: bytes and key objects in, bytes and typed objects out. The HTTP endpoint (inbox) and the
sender (outbound) both call this package.
"""

from parsers.as2.certs import KeyMaterial, PrivateKey, expiring, load_certificates, load_key_material, valid_at
from parsers.as2.errors import As2Error, Disposition, KeyMaterialError, MdnRequest
from parsers.as2.mdn import OutboundMdn, ReceivedMdn, build_mdn, parse_mdn
from parsers.as2.message import (
    As2Partner,
    InboundMessage,
    OutboundMessage,
    PartnerLookup,
    ReceivePolicy,
    Signer,
    build_message,
    mics_equal,
    receive_message,
)

__all__ = [
    "As2Error",
    "As2Partner",
    "Disposition",
    "InboundMessage",
    "KeyMaterial",
    "KeyMaterialError",
    "MdnRequest",
    "OutboundMdn",
    "OutboundMessage",
    "PartnerLookup",
    "PrivateKey",
    "ReceivePolicy",
    "ReceivedMdn",
    "Signer",
    "build_mdn",
    "build_message",
    "expiring",
    "load_certificates",
    "load_key_material",
    "mics_equal",
    "parse_mdn",
    "receive_message",
    "valid_at",
]
