"""SftpPoller against real servers: completeness rules, landing before deleting, and faults."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from inbox.sources.sftp import (
    AuthFailed,
    ConfigError,
    ConnectFailed,
    ConnectionLost,
    HostKeyRejected,
    PollState,
    SftpPoller,
    SftpPollGroup,
    unsafe_name_reason,
)
from partners.profile import PartnerProfile

from .conftest import MemoryLander, RecordingAlerter
from .servers import AsyncsshServer, KeyPair, OpenSshServer, SftpTestServer, make_keypair

FIXTURE = Path(__file__).parent.parent / "fixtures" / "sftp" / "po_850.x12"


def poller(server: SftpTestServer, lander: MemoryLander, alerter: RecordingAlerter, tmp_path: Path,
           profile: PartnerProfile | None = None, state: PollState | None = None,
           progress: Any = None, **overrides: Any) -> SftpPoller:
    """A poller for ``server`` spooling into tmp_path/spool."""
    return SftpPoller(profile or PartnerProfile(id="acme"), server.transport(**overrides), lander, alerter,
                      tmp_path / "spool", state, progress=progress)


def put(server: SftpTestServer, name: str, body: bytes, folder: str = "inbox") -> Path:
    """Drop a file on the server the way a partner would (mtime set in the past, so it is settled)."""
    path = server.root / folder / name
    path.write_bytes(body)
    past = time.time() - 120
    os.utime(path, (past, past))
    return path


def remote_names(server: SftpTestServer, folder: str = "inbox") -> list[str]:
    """File names currently in a server folder."""
    return sorted(p.name for p in (server.root / folder).iterdir())


def assert_once_or_still_there(server: SftpTestServer, lander: MemoryLander, files: dict[str, bytes]) -> None:
    """Nothing lost, nothing duplicated: each file is landed once or still on the server intact."""
    landed_bodies = lander.bodies()
    for name, body in files.items():
        on_server = (server.root / "inbox" / name).exists()
        times_landed = landed_bodies.count(body)
        assert times_landed <= 1, f"{name} landed {times_landed} times"
        if on_server:
            assert (server.root / "inbox" / name).read_bytes() == body
        else:
            assert times_landed == 1, f"{name} is gone from the server but was never landed"
    spool = server.workdir.parent / "spool"
    assert not spool.exists() or list(spool.iterdir()) == [], "spool files left behind"


# --------------------------------------------------------------------------- the happy paths


def test_stable_files_are_landed_then_deleted(server: SftpTestServer, lander: MemoryLander,
                                              alerter: RecordingAlerter, tmp_path: Path) -> None:
    body = FIXTURE.read_bytes()
    put(server, "po1.x12", body)
    put(server, "po2.x12", body.replace(b"PO-4711", b"PO-4712"))
    p = poller(server, lander, alerter, tmp_path)

    first = p.poll_once()
    assert first.ok and not first.landed
    assert {why for _, why in first.skipped} == {"size/mtime not yet stable"}
    assert remote_names(server) == ["po1.x12", "po2.x12"]

    second = p.poll_once()
    assert second.ok, second.errors
    assert [f.remote_path for f in second.landed] == ["inbox/po1.x12", "inbox/po2.x12"]
    assert all(f.acknowledged and not f.receipt.already_landed for f in second.landed)
    assert remote_names(server) == []
    assert sorted(lander.bodies()) == sorted([body, body.replace(b"PO-4711", b"PO-4712")])
    raw = next(iter(lander.raws.values()))
    assert raw.transport == "sftp" and raw.partner_hint == "acme" and raw.filename == "po1.x12"
    size, mtime = len(body), int(time.time() - 120)
    assert raw.transport_id.startswith(f"{server.host}:{server.port}:inbox/po1.x12:{size}:")
    listed_mtime, content = raw.transport_id.rsplit(":", 2)[1:]
    assert abs(int(listed_mtime) - mtime) < 5
    assert content == hashlib.sha256(body).hexdigest()[:16] == raw.metadata["sha256"][:16]
    assert list((tmp_path / "spool").iterdir()) == []  # spool files cleaned up
    assert p.poll_once().landed == [] and alerter.alerts == []


def test_ready_suffix_takes_only_renamed_files_at_once(server: SftpTestServer, lander: MemoryLander,
                                                       alerter: RecordingAlerter, tmp_path: Path) -> None:
    put(server, "po1.x12.tmp", b"half a fi")
    put(server, "po2.x12.ready", FIXTURE.read_bytes())
    p = poller(server, lander, alerter, tmp_path, ready_suffix=".ready")
    result = p.poll_once()
    assert [f.remote_path for f in result.landed] == ["inbox/po2.x12.ready"]
    assert next(iter(lander.raws.values())).filename == "po2.x12"
    assert remote_names(server) == ["po1.x12.tmp"]
    assert ("inbox/po1.x12.tmp", "not ready (no .ready suffix)") in result.skipped


def test_move_into_done_folder_and_patterns(server: SftpTestServer, lander: MemoryLander,
                                            alerter: RecordingAlerter, tmp_path: Path) -> None:
    (server.root / "done").mkdir()
    put(server, "po1.x12", FIXTURE.read_bytes())
    put(server, "notes.txt", b"not for us")
    p = poller(server, lander, alerter, tmp_path, after_download="move", remote_done_path="done",
               patterns=["*.x12"])
    p.poll_once()
    result = p.poll_once()
    assert [f.remote_path for f in result.landed] == ["inbox/po1.x12"]
    assert remote_names(server) == ["notes.txt"]
    assert remote_names(server, "done") == ["po1.x12"]
    assert (server.root / "done" / "po1.x12").read_bytes() == FIXTURE.read_bytes()


def test_move_without_done_path_is_a_config_error(server: SftpTestServer, lander: MemoryLander,
                                                   alerter: RecordingAlerter, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="remote_done_path"):
        poller(server, lander, alerter, tmp_path, after_download="move")


def test_known_hosts_file_instead_of_pinned_key(server: SftpTestServer, lander: MemoryLander,
                                                alerter: RecordingAlerter, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[{server.host}]:{server.port} {server.host_key_line}\n")
    put(server, "po1.x12.ready", FIXTURE.read_bytes())
    p = poller(server, lander, alerter, tmp_path, host_key=None, known_hosts=known, ready_suffix=".ready")
    assert len(p.poll_once().landed) == 1


def test_growing_file_is_not_taken_until_stable(server: SftpTestServer, lander: MemoryLander,
                                                alerter: RecordingAlerter, tmp_path: Path) -> None:
    body = FIXTURE.read_bytes()
    path = put(server, "po1.x12", body[:40])
    p = poller(server, lander, alerter, tmp_path)
    assert p.poll_once().landed == []
    with path.open("ab") as f:  # the partner is still writing
        f.write(body[40:90])
    second = p.poll_once()
    assert second.landed == [] and ("inbox/po1.x12", "size/mtime not yet stable") in second.skipped
    with path.open("ab") as f:
        f.write(body[90:])
    assert p.poll_once().landed == []
    third = p.poll_once()
    assert len(third.landed) == 1
    assert lander.bodies() == [body]


# --------------------------------------------------------------------------- refusals


def test_oversized_file_is_refused_with_one_alert(server: SftpTestServer, lander: MemoryLander,
                                                  alerter: RecordingAlerter, tmp_path: Path) -> None:
    put(server, "big.x12.ready", b"x" * 1001)
    put(server, "small.x12.ready", FIXTURE.read_bytes()[:1000])
    p = poller(server, lander, alerter, tmp_path, ready_suffix=".ready", max_file_bytes=1000)
    result = p.poll_once()
    assert [f.remote_path for f in result.landed] == ["inbox/small.x12.ready"]
    assert result.refused == [("inbox/big.x12.ready", "1001 bytes is over max_file_bytes 1000")]
    p.poll_once()
    assert alerter.kinds() == ["sftp.file_too_large"]
    assert remote_names(server) == ["big.x12.ready"]
    assert lander.calls == [f.transport_id for f in result.landed]


@pytest.mark.parametrize("name", ["../evil", "..\\evil", "a/b", "bad\x01name", "nul\x00name",
                                  "x" * 256, "é" * 128])
def test_unsafe_names(name: str) -> None:
    assert unsafe_name_reason(name) is not None


@pytest.mark.parametrize("name", ["po.x12", "a..b", "PO 4711 (copy).edi", "é" * 127, ".hidden"])
def test_safe_names(name: str) -> None:
    assert unsafe_name_reason(name) is None


def test_hostile_remote_names_are_refused_not_downloaded(faulty: AsyncsshServer, lander: MemoryLander,
                                                         alerter: RecordingAlerter, tmp_path: Path) -> None:
    faulty.faults.extra_names = ["../evil", "bad\x1bname", "n" * 300, "sub/../../etc"]
    put(faulty, "po1.x12.ready", FIXTURE.read_bytes())
    p = poller(faulty, lander, alerter, tmp_path)
    p.poll_once()
    result = p.poll_once()
    assert sorted(n for n, _ in result.refused) == sorted(faulty.faults.extra_names)
    assert len(lander.landed) == 1 and list(lander.landed.values()) == [FIXTURE.read_bytes()]
    assert alerter.kinds() == ["sftp.bad_remote_name"] * 4  # once each, not once per poll
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()
    assert all(a["partner_id"] == "acme" and a["dedup_key"] for a in alerter.alerts)


# --------------------------------------------------------------------------- connection failures


def test_changed_host_key_is_refused_with_alert(server: SftpTestServer, lander: MemoryLander,
                                                alerter: RecordingAlerter, tmp_path: Path) -> None:
    put(server, "po1.x12.ready", FIXTURE.read_bytes())
    p = poller(server, lander, alerter, tmp_path, ready_suffix=".ready")
    pinned = p.transport.host_key
    server.restart(new_host_key=True)
    assert server.host_key_line != pinned
    for _ in range(3):
        result = p.poll_once()
        assert isinstance(result.failure, HostKeyRejected)
        assert "CHANGED" in str(result.failure)
    assert alerter.kinds() == ["sftp.host_key_rejected"]  # at once, and only once
    assert lander.calls == [] and remote_names(server) == ["po1.x12.ready"]


def test_unknown_host_key_is_refused(server: SftpTestServer, lander: MemoryLander, alerter: RecordingAlerter,
                                     tmp_path: Path) -> None:
    other = make_keypair(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    known.write_text(f"[otherhost]:22 {other.public_line}\n")
    p = poller(server, lander, alerter, tmp_path, host_key=None, known_hosts=known)
    result = p.poll_once()
    assert isinstance(result.failure, HostKeyRejected) and "not pinned" in str(result.failure)
    assert alerter.kinds() == ["sftp.host_key_rejected"]


def test_no_host_key_at_all_is_a_config_error(server: SftpTestServer, lander: MemoryLander,
                                              alerter: RecordingAlerter, tmp_path: Path) -> None:
    result = poller(server, lander, alerter, tmp_path, host_key=None).poll_once()
    assert isinstance(result.failure, ConfigError) and result.failure.local


def test_wrong_client_key_is_auth_failure(server: SftpTestServer, lander: MemoryLander,
                                          alerter: RecordingAlerter, tmp_path: Path) -> None:
    stranger = make_keypair(tmp_path / "stranger")
    p = poller(server, lander, alerter, tmp_path, key_path=stranger.private_path, failures_before_alert=2)
    assert isinstance(p.poll_once().failure, AuthFailed)
    assert alerter.alerts == []
    assert isinstance(p.poll_once().failure, AuthFailed)
    assert alerter.kinds() == ["sftp.auth_failed"]


@pytest.mark.filterwarnings("ignore:.*bcrypt.kdf.*:UserWarning")  # few KDF rounds keep the test fast
def test_encrypted_key_with_passphrase_from_env(server: SftpTestServer, lander: MemoryLander,
                                                alerter: RecordingAlerter, tmp_path: Path,
                                                client_key: KeyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncssh

    encrypted = tmp_path / "id_encrypted"
    asyncssh.read_private_key(str(client_key.private_path)).write_private_key(
        str(encrypted), passphrase="s3cret", rounds=4)
    put(server, "po1.x12.ready", FIXTURE.read_bytes())
    p = poller(server, lander, alerter, tmp_path, key_path=encrypted, key_passphrase_env="SFTP_TEST_PASS",
               ready_suffix=".ready")
    monkeypatch.delenv("SFTP_TEST_PASS", raising=False)
    missing = p.poll_once().failure
    assert isinstance(missing, ConfigError) and "SFTP_TEST_PASS" in str(missing)
    monkeypatch.setenv("SFTP_TEST_PASS", "s3cret")
    assert len(p.poll_once().landed) == 1


def test_server_down_backs_off_and_alerts_once(server: SftpTestServer, lander: MemoryLander,
                                               alerter: RecordingAlerter, tmp_path: Path) -> None:
    put(server, "po1.x12.ready", FIXTURE.read_bytes())
    p = poller(server, lander, alerter, tmp_path, ready_suffix=".ready", failures_before_alert=3,
               poll_interval_seconds=10.0)
    server.stop()
    delays = []
    for _ in range(5):
        result = p.poll_once()
        assert isinstance(result.failure, ConnectFailed)
        delays.append(p.next_delay())
    assert delays == sorted(delays) and delays[0] == 20.0 and delays[-1] == 320.0
    assert alerter.kinds() == ["sftp.unreachable"]
    assert "3 consecutive" in alerter.alerts[0]["body"]
    server.start()
    assert len(p.poll_once().landed) == 1
    assert p.state.consecutive_failures == 0 and p.next_delay() == 10.0
    assert_once_or_still_there(server, lander, {"po1.x12.ready": FIXTURE.read_bytes()})


def test_dropped_connection_mid_download(server: SftpTestServer, lander: MemoryLander,
                                         alerter: RecordingAlerter, tmp_path: Path) -> None:
    body = os.urandom(3 * 1024 * 1024)
    put(server, "big.x12.ready", body)
    put(server, "po1.x12.ready", FIXTURE.read_bytes())
    dropped: list[int] = []

    def drop(path: str, done: int, total: int) -> None:
        if path.endswith("big.x12.ready") and done > 256 * 1024 and not dropped:
            assert isinstance(server, OpenSshServer)
            dropped.append(server.drop_connections())

    if isinstance(server, AsyncsshServer):
        server.faults.abort_read_after = 512 * 1024
    p = poller(server, lander, alerter, tmp_path, ready_suffix=".ready",
               progress=drop if isinstance(server, OpenSshServer) else None)
    result = p.poll_once()
    assert isinstance(result.failure, ConnectionLost), result
    assert "big.x12.ready" not in str(lander.calls)
    assert list((tmp_path / "spool").iterdir()) == []  # partial download discarded
    assert_once_or_still_there(server, lander, {"big.x12.ready": body, "po1.x12.ready": FIXTURE.read_bytes()})
    assert (server.root / "inbox" / "big.x12.ready").read_bytes() == body

    if isinstance(server, AsyncsshServer):
        server.faults.abort_read_after = None
    assert dropped[0] >= 1 if isinstance(server, OpenSshServer) else not dropped
    dropped.append(0)  # do not drop again
    p.poll_once()
    assert sorted(lander.bodies()) == sorted([body, FIXTURE.read_bytes()])
    assert len(lander.calls) == 2 and remote_names(server) == []


def test_delete_denied_alerts_once_and_never_lands_twice(faulty: AsyncsshServer, lander: MemoryLander,
                                                         alerter: RecordingAlerter, tmp_path: Path) -> None:
    put(faulty, "po1.x12.ready", FIXTURE.read_bytes())
    faulty.faults.deny_remove = True
    state = PollState()
    p = poller(faulty, lander, alerter, tmp_path, ready_suffix=".ready", state=state)
    first = p.poll_once()
    assert len(first.landed) == 1 and not first.landed[0].acknowledged
    assert "permission denied" in first.errors[0]
    for _ in range(3):
        again = p.poll_once()
        assert again.landed == [] and again.ok
    assert len(lander.calls) == 1  # retried only the delete, no new download or landing
    assert alerter.kinds() == ["sftp.ack_failed"]
    assert "will not be landed again" in alerter.alerts[0]["body"]

    # A fresh process (state lost) downloads once more; the Lander answers already_landed.
    fresh = poller(faulty, lander, alerter, tmp_path, ready_suffix=".ready")
    replay = fresh.poll_once()
    assert replay.landed[0].receipt.already_landed and len(lander.landed) == 1

    faulty.faults.deny_remove = False
    p.poll_once()
    assert remote_names(faulty) == [] and faulty.faults.removes == 1
    assert len(lander.landed) == 1 and len(lander.calls) == 2


def test_move_falls_back_to_rename_without_posix_rename(faulty: AsyncsshServer, lander: MemoryLander,
                                                        alerter: RecordingAlerter, tmp_path: Path) -> None:
    faulty.faults.no_posix_rename = True
    (faulty.root / "done").mkdir()
    put(faulty, "po1.x12.ready", FIXTURE.read_bytes())
    p = poller(faulty, lander, alerter, tmp_path, ready_suffix=".ready", after_download="move",
               remote_done_path="done")
    result = p.poll_once()
    assert result.landed[0].acknowledged, result.errors
    assert remote_names(faulty, "done") == ["po1.x12.ready"]


# --------------------------------------------------------------------------- the poll group


def test_slow_partner_does_not_block_others(server: SftpTestServer, tmp_path: Path, client_key: KeyPair) -> None:
    """One partner's server accepts TCP but never speaks; the other partner's files still flow."""
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(8)
    put(server, "po1.x12.ready", FIXTURE.read_bytes())
    lander, alerter = MemoryLander(), RecordingAlerter()
    fast = poller(server, lander, alerter, tmp_path / "fast", PartnerProfile(id="fast"),
                  ready_suffix=".ready")
    stuck_transport = server.transport(port=blackhole.getsockname()[1], connect_timeout_seconds=60.0)
    stuck = SftpPoller(PartnerProfile(id="stuck"), stuck_transport, lander, alerter, tmp_path / "stuck")
    group = SftpPollGroup([stuck, fast])
    group.start()
    try:
        deadline = time.monotonic() + 30
        while not lander.landed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(lander.landed) == 1
        assert stuck.state.consecutive_failures == 0  # still waiting for its first banner
    finally:
        blackhole.close()  # lets the stuck connect fail, so stop() can join it
        assert group.stop(timeout=30)
    assert remote_names(server) == []
    assert threading.active_count() < 50
