"""Fixtures for SFTP tests: client keys, real servers (asyncssh, OpenSSH), an in-memory lander."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from inbox.base import LandingReceipt, RawDocument
from partners.profile import PartnerProfile

from .servers import AsyncsshServer, KeyPair, SftpTestServer, make_keypair, sshd_available, start_server

IN_CI = os.environ.get("CI", "").lower() == "true"


class MemoryLander:
    """Test lander: keeps bytes by transport_id, idempotent like the real one, counts calls."""

    def __init__(self) -> None:
        self.landed: dict[str, bytes] = {}
        self.raws: dict[str, RawDocument] = {}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def land(self, raw: RawDocument) -> LandingReceipt:
        """Store the body under its transport id (the first time only)."""
        body = raw.read_bytes()
        with self._lock:
            self.calls.append(raw.transport_id)
            already = raw.transport_id in self.landed
            if not already:
                self.landed[raw.transport_id] = body
                self.raws[raw.transport_id] = raw
        return LandingReceipt(file_id=raw.transport_id, sha256="-", size=len(body), already_landed=already)

    def bodies(self) -> list[bytes]:
        """The distinct bodies landed, in landing order."""
        return list(self.landed.values())


@dataclass
class RecordingAlerter:
    """Test alerter: records every alert."""

    alerts: list[dict[str, Any]] = field(default_factory=list)

    def alert(self, kind: str, subject: str, body: str, *, partner_id: str | None = None,
              dedup_key: str | None = None) -> None:
        """Record the alert."""
        self.alerts.append({"kind": kind, "subject": subject, "body": body,
                            "partner_id": partner_id, "dedup_key": dedup_key})

    def kinds(self) -> list[str]:
        """The kinds of the alerts raised, in order."""
        return [a["kind"] for a in self.alerts]


@pytest.fixture(scope="session")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """A client key pair generated for this test session."""
    return make_keypair(tmp_path_factory.mktemp("client") / "id_ed25519")


@pytest.fixture(params=["asyncssh", "openssh"])
def server(request: pytest.FixtureRequest, tmp_path: Path, client_key: KeyPair) -> Iterator[SftpTestServer]:
    """A fresh real SFTP server of each kind (OpenSSH skipped without sshd, unless CI=true)."""
    if request.param == "openssh" and not sshd_available():
        if IN_CI:
            pytest.fail("/usr/sbin/sshd is required in CI")
        pytest.skip("/usr/sbin/sshd not installed")
    workdir = tmp_path / f"server-{request.param}"
    workdir.mkdir()
    srv = start_server(request.param, workdir, client_key)
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def faulty(tmp_path: Path, client_key: KeyPair) -> Iterator[AsyncsshServer]:
    """The asyncssh server, for faults only a programmable server can play."""
    workdir = tmp_path / "server-faulty"
    workdir.mkdir()
    srv = start_server("asyncssh", workdir, client_key)
    assert isinstance(srv, AsyncsshServer)
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def lander() -> MemoryLander:
    """An empty in-memory lander."""
    return MemoryLander()


@pytest.fixture
def alerter() -> RecordingAlerter:
    """An empty recording alerter."""
    return RecordingAlerter()


@pytest.fixture
def profile() -> PartnerProfile:
    """A partner profile for the polled partner."""
    return PartnerProfile(id="acme", name="ACME Retail")
