"""Our builder and our receiver agree: every layering, cipher and digest; MICs match on both sides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.as2 import As2Partner, ReceivePolicy, Signer, build_message, mics_equal, receive_message

from .conftest import LAX, Party

PAYLOAD = (Path(__file__).parent.parent / "fixtures" / "as2" / "po_850.x12").read_bytes()


@pytest.mark.parametrize(
    ("sign", "encrypt", "compress"),
    [(s, e, c) for s in (False, True) for e in (False, True) for c in (False, True)],
)
def test_every_layering_round_trips(
    sign: bool, encrypt: bool, compress: bool, us: Party, them: Party,
    partner_lookup: Callable[[str, str], As2Partner | None],
) -> None:
    out = build_message(
        PAYLOAD, as2_from="THEM", as2_to="US", message_id="abc-1@them", filename="po_850.x12",
        signer=them.signer if sign else None, encrypt_to=[us.cert] if encrypt else (), compress=compress,
        mdn_to="edi@them.example",
    )
    inbound = receive_message(out.headers, out.body, partner_lookup, LAX)
    assert inbound.payload == PAYLOAD
    assert (inbound.signed, inbound.encrypted, inbound.compressed) == (sign, encrypt, compress)
    assert inbound.filename == "po_850.x12"
    assert inbound.content_type == "application/edi-x12"
    assert inbound.message_id == "abc-1@them"
    assert (inbound.as2_from, inbound.as2_to) == ("THEM", "US")
    assert mics_equal(inbound.mic, out.mic), (inbound.mic, out.mic)
    assert inbound.mdn_request is not None and inbound.mdn_request.signed
    assert inbound.mdn_request.micalgs == ("sha256",)
    assert (inbound.signer == them.cert) is sign


@pytest.mark.parametrize("cipher", ["aes128_cbc", "aes192_cbc", "aes256_cbc", "tripledes_cbc"])
def test_every_cipher(cipher: str, us: Party, them: Party,
                      partner_lookup: Callable[[str, str], As2Partner | None]) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="c@x", signer=them.signer,
                        encrypt_to=[us.cert], encryption_algorithm=cipher)
    inbound = receive_message(out.headers, out.body, partner_lookup)
    assert inbound.payload == PAYLOAD and inbound.encrypted and inbound.signed


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha384", "sha512"])
def test_every_digest(digest: str, us: Party, them: Party,
                      partner_lookup: Callable[[str, str], As2Partner | None]) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="d@x",
                        signer=Signer(them.cert, them.key, digest), encrypt_to=[us.cert], mdn_to="x")
    assert f"micalg=sha-{digest[3:]}" in out.headers.get("Content-Type", "") or out.headers["Content-Type"]
    inbound = receive_message(out.headers, out.body, partner_lookup)
    assert inbound.mic_algorithm == digest
    assert mics_equal(inbound.mic, out.mic)


def test_headers_of_a_built_message(us: Party, them: Party) -> None:
    out = build_message(PAYLOAD, as2_from="THEM CO", as2_to="US", message_id="<m-1@them>", subject="PO 1001",
                        signer=them.signer, encrypt_to=[us.cert], mdn_to="edi@them.example",
                        async_mdn_url="https://them.example/as2/mdn")
    h = out.headers
    assert h["AS2-Version"] == "1.2"
    assert h["AS2-From"] == '"THEM CO"' and h["AS2-To"] == "US"
    assert h["Message-ID"] == "<m-1@them>" and out.message_id == "m-1@them"
    assert h["Subject"] == "PO 1001"
    assert h["Content-Type"].startswith("application/pkcs7-mime; smime-type=enveloped-data")
    assert h["Disposition-Notification-To"] == "edi@them.example"
    assert "signed-receipt-micalg=optional, sha-256" in h["Disposition-Notification-Options"]
    assert h["Receipt-Delivery-Option"] == "https://them.example/as2/mdn"
    assert out.mic.endswith(", sha256")


def test_rollover_accepts_old_and_new_signing_certificate(us: Party, them: Party, stranger: Party) -> None:
    def lookup(as2_from: str, as2_to: str) -> As2Partner:
        return As2Partner(their_certs=[stranger.cert, them.cert], our_certs=[us.cert], our_keys=[us.key])

    for signer in (them, stranger):
        out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="r@x", signer=signer.signer,
                            encrypt_to=[us.cert])
        assert receive_message(out.headers, out.body, lookup).signer == signer.cert


def test_decrypts_with_old_key_during_our_rollover(us: Party, them: Party, stranger: Party) -> None:
    def lookup(as2_from: str, as2_to: str) -> As2Partner:
        return As2Partner(their_certs=[them.cert], our_certs=[stranger.cert, us.cert],
                          our_keys=[stranger.key, us.key])

    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="k@x", signer=them.signer,
                        encrypt_to=[us.cert])
    assert receive_message(out.headers, out.body, lookup).payload == PAYLOAD


def test_partner_policy_overrides_the_default(us: Party, them: Party) -> None:
    def lookup(as2_from: str, as2_to: str) -> As2Partner:
        return As2Partner(their_certs=[them.cert], policy=ReceivePolicy(False, False))

    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="p@x")
    inbound = receive_message(out.headers, out.body, lookup)  # default policy would demand both
    assert inbound.payload == PAYLOAD and not inbound.signed and not inbound.encrypted


def test_header_names_are_case_insensitive(us: Party, them: Party,
                                           partner_lookup: Callable[[str, str], As2Partner | None]) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="h@x", signer=them.signer,
                        encrypt_to=[us.cert])
    lowered = {k.lower(): v for k, v in out.headers.items()}
    assert receive_message(lowered, out.body, partner_lookup).payload == PAYLOAD


@pytest.mark.parametrize(("sent", "kept"), [("../../etc/passwd", "passwd"), ("C:\\edi\\in\\po 1.x12", "po 1.x12"),
                                            ('we"ird.edi', 'we"ird.edi')])
def test_filenames_lose_their_directories(sent: str, kept: str, partner_lookup: Callable[[str, str], As2Partner | None]
                                          ) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="f@x", filename=sent)
    assert receive_message(out.headers, out.body, partner_lookup, LAX).filename == kept


def test_binary_payload_survives(us: Party, them: Party,
                                 partner_lookup: Callable[[str, str], As2Partner | None]) -> None:
    payload = bytes(range(256)) * 64 + b"\r\n--not-a-boundary\n\r\n"
    out = build_message(payload, as2_from="THEM", as2_to="US", message_id="bin@x",
                        content_type="application/octet-stream", signer=them.signer)
    inbound = receive_message(out.headers, out.body, partner_lookup, LAX)
    assert inbound.payload == payload and inbound.content_type == "application/octet-stream"
