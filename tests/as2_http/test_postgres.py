"""The AS2 endpoint on a PostgreSQL store: landing, the stored MDN for a replay, and refusals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from store_urls import make_store_url

from parsers.as2 import build_message, parse_mdn

from .conftest import PAYLOAD, Gateway, Party

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A fresh schema on the test PostgreSQL (fails when the DSN is set but the server is unreachable)."""
    with make_store_url("postgresql", tmp_path) as url:
        yield url


def test_receive_replay_and_refusal_on_postgresql(
    pg_url: str, us: Party, them: Party, stranger: Party, start_gateway: Callable[..., Gateway],
    acme: Callable[..., Any],
) -> None:
    gw = start_gateway([acme()], store_url=pg_url)
    assert gw.store.backend == "postgresql"
    msg = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="pg-1@them", signer=them.signer,
                        encrypt_to=[us.cert], mdn_to="edi@them")
    first = gw.post(msg.headers, msg.body)
    again = gw.post(msg.headers, msg.body)
    assert parse_mdn(dict(first.headers), first.content, their_certs=[us.cert], expected_mic=msg.mic).is_success
    assert again.content == first.content and len(gw.files()) == 1
    bad = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="pg-2@them", signer=stranger.signer,
                        encrypt_to=[us.cert], mdn_to="edi@them")
    refused = parse_mdn(dict((r := gw.post(bad.headers, bad.body)).headers), r.content, their_certs=[us.cert])
    assert refused.modifier == "authentication-failed"
    assert len(gw.files()) == 1 and gw.alert_kinds() == ["as2.rejected"]
