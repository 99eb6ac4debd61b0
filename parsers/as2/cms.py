"""CMS (RFC 5652) for AS2: detached signatures, EnvelopedData, CompressedData (RFC 3274).

Rules:
- Signing goes through ``cryptography``'s PKCS#7 builder (detached, binary: the exact bytes given).
- Verifying is done here with ``asn1crypto``: the signer must be one of the certificates we were
  given for the partner (certificates inside the message are never trusted), the signed
  ``message-digest`` must equal the digest of the content, and the signature must verify over the
  signed attributes.
- EnvelopedData is built and opened here (RSA PKCS#1 v1.5 or OAEP key transport; AES-CBC and
  3DES-CBC content encryption), because ``cryptography`` only offers AES-128/256 there.
- Decompression is streamed and stops at a byte limit (zip bombs are normal input).
- Failures raise ``As2Error`` with the disposition an MDN reports.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms as acms
from asn1crypto import core as acore
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from parsers.as2.certs import PrivateKey
from parsers.as2.errors import As2Error, Disposition

# --------------------------------------------------------------------------- lookup tables

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
"""Digest algorithms we sign, verify and compute MICs with, by normalised name."""

MICALG_NAMES: dict[str, str] = {
    "sha1": "sha-1",
    "sha224": "sha-224",
    "sha256": "sha-256",
    "sha384": "sha-384",
    "sha512": "sha-512",
}
"""Our digest names -> the ``micalg`` parameter values of RFC 5751."""

CIPHERS: dict[str, tuple[int, str]] = {
    "aes128_cbc": (16, "aes128_cbc"),
    "aes192_cbc": (24, "aes192_cbc"),
    "aes256_cbc": (32, "aes256_cbc"),
    "tripledes_cbc": (24, "tripledes_3key"),
}
"""Our content-encryption names -> (key length, asn1crypto algorithm name)."""

_CIPHER_BY_ASN1 = {asn1_name: (ours, size) for ours, (size, asn1_name) in CIPHERS.items()}


def normalise_digest(name: str) -> str:
    """``SHA-256``, ``sha256``, ``sha_256`` -> ``sha256``; unknown names pass through lower-cased."""
    return name.strip().lower().replace("-", "").replace("_", "")


def digest(name: str, data: bytes) -> bytes:
    """The digest of ``data`` with a digest algorithm named as in ``DIGESTS``."""
    algorithm = normalise_digest(name)
    if algorithm not in DIGESTS:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"unsupported digest algorithm {name!r}")
    return hashlib.new(algorithm, data).digest()


def _block_cipher(name: str, key: bytes) -> BlockCipherAlgorithm:
    """The cryptography cipher object for one of our content-encryption names."""
    if name == "tripledes_cbc":
        return TripleDES(key)
    return algorithms.AES(key)


def _asn1_cert(cert: x509.Certificate) -> Any:
    """The asn1crypto view of a certificate (for issuer/serial/key-identifier matching)."""
    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _identifies(rid: Any, cert: x509.Certificate) -> bool:
    """True when a CMS SignerIdentifier / RecipientIdentifier names this certificate."""
    acert = _asn1_cert(cert)
    if rid.name == "issuer_and_serial_number":
        return bool(
            rid.chosen["issuer"] == acert.issuer and rid.chosen["serial_number"].native == acert.serial_number
        )
    if rid.name == "subject_key_identifier":
        return bool(acert.key_identifier is not None and rid.chosen.native == acert.key_identifier)
    return False


def _load_content_info(der: bytes, expected: str, disposition: Disposition, what: str) -> Any:
    """Parse a CMS ContentInfo and check its content type, mapping any parse error to ``disposition``."""
    try:
        info = acms.ContentInfo.load(der)
        content_type = info["content_type"].native
        content = info["content"]
        content.native  # noqa: B018 - forces a full parse so garbage fails here, not later
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise As2Error(disposition, f"{what} is not valid CMS/DER ({exc})") from None
    if content_type != expected:
        raise As2Error(disposition, f"{what} is CMS {content_type}, expected {expected}")
    return content


# --------------------------------------------------------------------------- signatures


def sign_detached(data: bytes, cert: x509.Certificate, key: PrivateKey, digest_name: str) -> bytes:
    """A detached CMS SignedData (DER) over exactly ``data``, with signed attributes and the signer cert."""
    algorithm = normalise_digest(digest_name)
    if algorithm not in DIGESTS:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"unsupported digest algorithm {digest_name!r}",
                       remote=False)
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    try:
        if algorithm == "sha1":  # cryptography's builder refuses SHA-1; legacy partners still ask for it
            return _sign_detached_asn1(data, cert, key, algorithm)
        builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
        builder = builder.add_signer(cert, key, DIGESTS[algorithm]())  # type: ignore[arg-type]
        return builder.sign(serialization.Encoding.DER, options)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"cannot sign: {exc}", remote=False) from None


def _sign_detached_asn1(data: bytes, cert: x509.Certificate, key: PrivateKey, algorithm: str) -> bytes:
    """A detached SignedData built with asn1crypto (content-type and message-digest signed attributes)."""
    acert = _asn1_cert(cert)
    signed_attrs = acms.CMSAttributes([
        acms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        acms.CMSAttribute({"type": "message_digest", "values": [digest(algorithm, data)]}),
    ])
    to_sign = signed_attrs.dump()  # a SET OF, as signed; stored below under [0] IMPLICIT
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, asym_padding.PKCS1v15(), DIGESTS[algorithm]())
        signature_algorithm = "rsassa_pkcs1v15"
    else:
        signature = key.sign(to_sign, ec.ECDSA(DIGESTS[algorithm]()))
        signature_algorithm = f"{algorithm}_ecdsa"
    signer_info = acms.SignerInfo({
        "version": "v1",
        "sid": acms.SignerIdentifier({
            "issuer_and_serial_number": acms.IssuerAndSerialNumber(
                {"issuer": acert.issuer, "serial_number": acert.serial_number}
            )
        }),
        "digest_algorithm": {"algorithm": algorithm},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": signature_algorithm},
        "signature": signature,
    })
    signed_data = acms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": algorithm}],
        "encap_content_info": {"content_type": "data"},
        "certificates": [acert],
        "signer_infos": [signer_info],
    })
    return bytes(acms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """The outcome of a good signature: who signed, with which digest, over which bytes."""

    signer: x509.Certificate
    digest_algorithm: str  # normalised: "sha256"
    content: bytes  # the exact bytes the signature covers (as sent, or CRLF-canonicalised)


def _verify_raw(public_key: Any, signature: bytes, signed: bytes, si: Any, digest_name: str) -> None:
    """Check one signature value with the signer's public key; raise InvalidSignature when it is bad."""
    algo = si["signature_algorithm"]
    kind = algo.signature_algo
    hash_alg = DIGESTS[digest_name]()
    if isinstance(public_key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
        public_key.verify(signature, signed, asym_padding.PKCS1v15(), hash_alg)
    elif isinstance(public_key, rsa.RSAPublicKey) and kind == "rsassa_pss":
        params = algo["parameters"]
        pss_hash = DIGESTS[normalise_digest(params["hash_algorithm"]["algorithm"].native)]()
        salt = int(params["salt_length"].native)
        mgf = asym_padding.MGF1(pss_hash)
        public_key.verify(signature, signed, asym_padding.PSS(mgf, salt), pss_hash)
    elif isinstance(public_key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
        public_key.verify(signature, signed, ec.ECDSA(hash_alg))
    else:
        raise InvalidSignature(f"signature algorithm {kind} does not fit the certificate's key")


def verify_detached(
    signature_der: bytes, candidates: Sequence[bytes], certs: Sequence[x509.Certificate]
) -> VerifiedSignature:
    """Verify a detached SignedData against the partner's certificates; ``candidates`` are the content
    forms to try (as sent first, then canonicalised)."""
    signed_data = _load_content_info(signature_der, "signed_data", Disposition.AUTHENTICATION_FAILED, "signature")
    signer_infos = list(signed_data["signer_infos"])
    if not signer_infos:
        raise As2Error(Disposition.AUTHENTICATION_FAILED, "signature has no SignerInfo")
    if not certs:
        raise As2Error(Disposition.AUTHENTICATION_FAILED, "no certificate configured for this partner to verify with",
                       remote=False)
    problems: list[str] = []
    for si in signer_infos:
        matching = [c for c in certs if _identifies(si["sid"], c)]
        if not matching:
            problems.append("signed with a certificate that is not one of the partner's")
            continue
        digest_name = normalise_digest(si["digest_algorithm"]["algorithm"].native)
        if digest_name not in DIGESTS:
            problems.append(f"unsupported digest algorithm {digest_name}")
            continue
        signed_attrs = si["signed_attrs"]
        content: bytes | None = None
        if signed_attrs.native is not None and len(signed_attrs):
            attrs = {a["type"].native: a["values"] for a in signed_attrs}
            if "message_digest" not in attrs:
                problems.append("signed attributes carry no message-digest")
                continue
            content_type = attrs.get("content_type")
            if content_type is not None and content_type[0].native != "data":
                problems.append(f"signed content type is {content_type[0].native}, expected data")
                continue
            expected = attrs["message_digest"][0].native
            content = next((c for c in candidates if digest(digest_name, c) == expected), None)
            if content is None:
                raise As2Error(
                    Disposition.INTEGRITY_CHECK_FAILED,
                    f"content does not match the signed {digest_name} message digest (altered in transit)",
                )
            to_verify = b"\x31" + signed_attrs.dump()[1:]  # the SET OF, not the [0] IMPLICIT tag
            checks = [(content, to_verify)]
        else:
            checks = [(c, c) for c in candidates]
        signature = si["signature"].native
        for signer in matching:
            for candidate, to_verify in checks:
                try:
                    _verify_raw(signer.public_key(), signature, to_verify, si, digest_name)
                except (InvalidSignature, ValueError, UnsupportedAlgorithm, KeyError):
                    continue
                return VerifiedSignature(signer=signer, digest_algorithm=digest_name, content=candidate)
        problems.append("signature value does not verify with the partner's certificate")
    raise As2Error(Disposition.AUTHENTICATION_FAILED, "; ".join(problems))


# --------------------------------------------------------------------------- enveloped data


def encrypt_enveloped(data: bytes, recipients: Sequence[x509.Certificate], cipher: str = "aes256_cbc") -> bytes:
    """A CMS EnvelopedData (DER) of ``data`` for each recipient certificate (RSA PKCS#1 v1.5 key transport)."""
    if cipher not in CIPHERS:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, f"unsupported cipher {cipher!r}", remote=False)
    if not recipients:
        raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR, "no recipient certificate to encrypt for",
                       remote=False)
    key_size, asn1_name = CIPHERS[cipher]
    key = secrets.token_bytes(key_size)
    block = _block_cipher(cipher, key)
    iv = secrets.token_bytes(block.block_size // 8)
    padder = padding.PKCS7(block.block_size).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(block, modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    infos = []
    for cert in recipients:
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise As2Error(Disposition.UNEXPECTED_PROCESSING_ERROR,
                           "recipient certificate has no RSA key (needed for key transport)", remote=False)
        acert = _asn1_cert(cert)
        ktri = acms.KeyTransRecipientInfo({
            "version": "v0",
            "rid": acms.RecipientIdentifier({
                "issuer_and_serial_number": acms.IssuerAndSerialNumber(
                    {"issuer": acert.issuer, "serial_number": acert.serial_number}
                )
            }),
            "key_encryption_algorithm": acms.KeyEncryptionAlgorithm({"algorithm": "rsaes_pkcs1v15"}),
            "encrypted_key": public_key.encrypt(key, asym_padding.PKCS1v15()),
        })
        infos.append(acms.RecipientInfo(name="ktri", value=ktri))
    enveloped = acms.EnvelopedData({
        "version": "v0",
        "recipient_infos": infos,
        "encrypted_content_info": acms.EncryptedContentInfo({
            "content_type": "data",
            "content_encryption_algorithm": acms.EncryptionAlgorithm(
                {"algorithm": asn1_name, "parameters": acore.OctetString(iv)}
            ),
            "encrypted_content": encrypted,
        }),
    })
    return bytes(acms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump())


def _unwrap_key(ktri: Any, key: rsa.RSAPrivateKey) -> bytes:
    """Decrypt the content-encryption key of one KeyTransRecipientInfo with our RSA key."""
    algorithm = ktri["key_encryption_algorithm"]
    name = algorithm["algorithm"].native
    encrypted_key = ktri["encrypted_key"].native
    if name in ("rsaes_pkcs1v15", "rsa"):
        return key.decrypt(encrypted_key, asym_padding.PKCS1v15())
    if name == "rsaes_oaep":
        params = algorithm["parameters"]
        hash_name = normalise_digest(params["hash_algorithm"]["algorithm"].native)
        mgf_hash_name = normalise_digest(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
        oaep = asym_padding.OAEP(asym_padding.MGF1(DIGESTS[mgf_hash_name]()), DIGESTS[hash_name](), None)
        return key.decrypt(encrypted_key, oaep)
    raise As2Error(Disposition.DECRYPTION_FAILED, f"unsupported key transport algorithm {name}")


def decrypt_enveloped(der: bytes, our_certs: Sequence[x509.Certificate], our_keys: Sequence[PrivateKey]) -> bytes:
    """The content of a CMS EnvelopedData addressed to one of our certificates (or, failing a match, our keys)."""
    enveloped = _load_content_info(der, "enveloped_data", Disposition.DECRYPTION_FAILED, "encrypted body")
    rsa_keys = [k for k in our_keys if isinstance(k, rsa.RSAPrivateKey)]
    if not rsa_keys:
        raise As2Error(Disposition.DECRYPTION_FAILED, "no RSA private key configured to decrypt with", remote=False)
    ktris = [ri.chosen for ri in enveloped["recipient_infos"] if ri.name == "ktri"]
    if not ktris:
        raise As2Error(Disposition.DECRYPTION_FAILED, "message has no key-transport recipient (only RSA is supported)")
    # Recipients that name one of our certificates first, then every other pairing as a fallback.
    def same_key(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bool:
        """True when ``key`` is the private half of ``cert``."""
        public = cert.public_key()
        return isinstance(public, rsa.RSAPublicKey) and key.public_key().public_numbers() == public.public_numbers()

    pairs: list[tuple[Any, rsa.RSAPrivateKey]] = []
    for ktri in ktris:
        for cert in our_certs:
            if _identifies(ktri["rid"], cert):
                pairs += [(ktri, k) for k in rsa_keys if same_key(k, cert)]
    named_us = bool(pairs)
    tried = {(id(t), id(k)) for t, k in pairs}
    pairs += [(t, k) for t in ktris for k in rsa_keys if (id(t), id(k)) not in tried]
    eci = enveloped["encrypted_content_info"]
    algorithm = eci["content_encryption_algorithm"]
    asn1_name = algorithm["algorithm"].native
    if asn1_name not in _CIPHER_BY_ASN1:
        raise As2Error(Disposition.DECRYPTION_FAILED, f"unsupported content encryption algorithm {asn1_name}")
    cipher, key_size = _CIPHER_BY_ASN1[asn1_name]
    iv = algorithm["parameters"].native
    encrypted = eci["encrypted_content"].native
    if not isinstance(iv, bytes) or not isinstance(encrypted, bytes):
        raise As2Error(Disposition.DECRYPTION_FAILED, "encrypted content or its IV is missing")
    for ktri, key in pairs:
        try:
            content_key = _unwrap_key(ktri, key)
            if len(content_key) != key_size:
                continue
            block = _block_cipher(cipher, content_key)
            decryptor = Cipher(block, modes.CBC(iv)).decryptor()
            padded = decryptor.update(encrypted) + decryptor.finalize()
            unpadder = padding.PKCS7(block.block_size).unpadder()
            return unpadder.update(padded) + unpadder.finalize()
        except (ValueError, TypeError, KeyError):
            continue
    if named_us:
        raise As2Error(Disposition.DECRYPTION_FAILED, "message is addressed to our certificate but does not decrypt")
    raise As2Error(Disposition.DECRYPTION_FAILED,
                   "message is not encrypted for our certificate (wrong partner certificate on their side?)")


# --------------------------------------------------------------------------- compressed data


def compress(data: bytes) -> bytes:
    """A CMS CompressedData (RFC 3274, zlib) of ``data``, DER."""
    compressed = acms.CompressedData({
        "version": "v0",
        "compression_algorithm": acms.CompressionAlgorithm({"algorithm": "zlib"}),
        "encap_content_info": acms.EncapsulatedContentInfo(
            {"content_type": "data", "content": zlib.compress(data)}
        ),
    })
    return bytes(acms.ContentInfo({"content_type": "compressed_data", "content": compressed}).dump())


def decompress(der: bytes, max_bytes: int) -> bytes:
    """The content of a CMS CompressedData, decompressed in chunks and refused beyond ``max_bytes``."""
    compressed = _load_content_info(der, "compressed_data", Disposition.DECOMPRESSION_FAILED, "compressed body")
    algorithm = compressed["compression_algorithm"]["algorithm"].native
    if algorithm != "zlib":
        raise As2Error(Disposition.DECOMPRESSION_FAILED, f"unsupported compression algorithm {algorithm}")
    data = compressed["encap_content_info"]["content"].native
    if not isinstance(data, bytes):
        raise As2Error(Disposition.DECOMPRESSION_FAILED, "compressed data has no content")
    inflater = zlib.decompressobj()
    out: list[bytes] = []
    size = 0
    pending = data
    try:
        while pending and not inflater.eof:
            chunk = inflater.decompress(pending, 1 << 20)
            size += len(chunk)
            if size > max_bytes:
                raise As2Error(Disposition.DECOMPRESSION_FAILED,
                               f"decompressed content exceeds the limit of {max_bytes} bytes")
            out.append(chunk)
            pending = inflater.unconsumed_tail
        tail = inflater.flush(max(0, max_bytes - size + 1))
    except zlib.error as exc:
        raise As2Error(Disposition.DECOMPRESSION_FAILED, f"compressed data is corrupt ({exc})") from None
    size += len(tail)
    if size > max_bytes:
        raise As2Error(Disposition.DECOMPRESSION_FAILED, f"decompressed content exceeds the limit of {max_bytes} bytes")
    if not inflater.eof:
        raise As2Error(Disposition.DECOMPRESSION_FAILED, "compressed data is truncated")
    return b"".join(out) + tail
