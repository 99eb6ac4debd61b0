"""Fixtures for the AS2 codec tests: throwaway RSA key pairs, the openssl CLI, S/MIME helpers."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from as2_keys import Party, make_party

from parsers.as2 import As2Partner, ReceivePolicy

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _party(directory: Path, name: str) -> Party:
    """A party whose certificate is valid around the tests' fixed NOW."""
    return make_party(directory, name, not_before=NOW - dt.timedelta(days=30))


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder for this session's keys (never committed)."""
    return tmp_path_factory.mktemp("as2keys")


@pytest.fixture(scope="session")
def us(keydir: Path) -> Party:
    """Our gateway's key pair."""
    return _party(keydir, "us")


@pytest.fixture(scope="session")
def them(keydir: Path) -> Party:
    """The trading partner's key pair."""
    return _party(keydir, "them")


@pytest.fixture(scope="session")
def stranger(keydir: Path) -> Party:
    """A key pair nobody configured (wrong certificate)."""
    return _party(keydir, "stranger")


@pytest.fixture
def partner_lookup(us: Party, them: Party) -> Callable[[str, str], As2Partner | None]:
    """Lookup for our side: THEM sends to US; nothing else is known."""

    def lookup(as2_from: str, as2_to: str) -> As2Partner | None:
        if (as2_from, as2_to) == ("THEM", "US"):
            return As2Partner(their_certs=[them.cert], our_certs=[us.cert], our_keys=[us.key])
        return None

    return lookup


LAX = ReceivePolicy(require_signature=False, require_encryption=False)


def openssl(*args: str | Path, input: bytes | None = None) -> bytes:
    """Run ``openssl`` and return stdout; fail the test with stderr when it fails."""
    if not Path(OPENSSL).exists():
        pytest.skip("openssl command line not installed")
    proc = subprocess.run([OPENSSL, *map(str, args)], input=input, capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def split_smime(data: bytes) -> tuple[dict[str, str], bytes]:
    """Split openssl's S/MIME output into (top-level headers, body) as an HTTP request carries them."""
    cuts = [(data.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if data.find(sep) >= 0]
    at, sep = min(cuts)
    head, body = data[:at], data[at + len(sep) :]
    headers: dict[str, str] = {}
    last = None
    for line in head.decode("latin-1").splitlines():
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        last = name.strip()
        headers[last] = value.strip()
    return headers, body


def as2_headers(content_headers: dict[str, str], *, as2_from: str = "THEM", as2_to: str = "US",
                message_id: str = "<msg-1@them>") -> dict[str, str]:
    """AS2 request headers around the Content-* headers of a body."""
    headers = {"AS2-Version": "1.2", "AS2-From": as2_from, "AS2-To": as2_to, "Message-ID": message_id,
               "Disposition-Notification-To": "edi@them.example",
               "Disposition-Notification-Options":
                   "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256"}
    headers.update({k: v for k, v in content_headers.items() if k.lower().startswith("content-")})
    return headers
