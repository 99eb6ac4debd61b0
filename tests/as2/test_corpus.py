"""Real public X12 samples travel through AS2 byte for byte (whatever their line ends and padding)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.as2 import As2Partner, build_message, mics_equal, receive_message

from .conftest import Party

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
SAMPLES = sorted(p for d in ("x12", "broken") if (CORPUS / d).is_dir() for p in (CORPUS / d).iterdir()
                 if p.is_file())

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent (a user's clone)"),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_corpus_file_round_trips_byte_exact(
    sample: Path, us: Party, them: Party, partner_lookup: Callable[[str, str], As2Partner | None]
) -> None:
    payload = sample.read_bytes()
    out = build_message(payload, as2_from="THEM", as2_to="US", message_id=f"{sample.name}@them",
                        filename=sample.name, signer=them.signer, encrypt_to=[us.cert], compress=True)
    inbound = receive_message(out.headers, out.body, partner_lookup)
    assert inbound.payload == payload
    assert inbound.filename == sample.name
    assert mics_equal(inbound.mic, out.mic)
