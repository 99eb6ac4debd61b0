"""Senders: SftpSender against real servers, FolderSender on disk, MemorySender's contract."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from outbound.senders.base import FolderSender, MemorySender, OutboundMessage, SendError
from outbound.senders.sftp import SftpSender

from .servers import AsyncsshServer, OpenSshServer, SftpTestServer, make_keypair

FIXTURE = Path(__file__).parent.parent / "fixtures" / "sftp" / "po_850.x12"


def message(name: str = "acme_856_0001.x12", payload: bytes | None = None) -> OutboundMessage:
    """An outbound message carrying the fixture (or ``payload``)."""
    return OutboundMessage(partner_id="acme", filename=name,
                           payload=FIXTURE.read_bytes() if payload is None else payload,
                           idempotency_key=f"out-{name}")


def outbox(server: SftpTestServer) -> Path:
    """The server folder we push into."""
    path = server.root / "inbox"
    return path


# --------------------------------------------------------------------------- SFTP


def test_sftp_send_appears_whole_under_final_name(server: SftpTestServer) -> None:
    with SftpSender(server.transport()) as sender:
        result = sender.send(message())
        second = sender.send(message("acme_856_0002.x12"))
    assert not result.already_sent and result.size == len(FIXTURE.read_bytes())
    assert result.destination.endswith("inbox/acme_856_0001.x12")
    assert sorted(p.name for p in outbox(server).iterdir()) == ["acme_856_0001.x12", "acme_856_0002.x12"]
    assert (outbox(server) / "acme_856_0001.x12").read_bytes() == FIXTURE.read_bytes()
    assert not second.already_sent


def test_sftp_resend_after_rename_counts_as_sent(server: SftpTestServer) -> None:
    SftpSender(server.transport()).send(message())
    again = SftpSender(server.transport()).send(message())
    assert again.already_sent
    assert [p.name for p in outbox(server).iterdir()] == ["acme_856_0001.x12"]


def test_sftp_refuses_to_overwrite_a_different_file(server: SftpTestServer) -> None:
    (outbox(server) / "acme_856_0001.x12").write_bytes(b"someone else's file")
    with pytest.raises(SendError) as info:
        SftpSender(server.transport()).send(message())
    assert not info.value.retryable and info.value.kind == "send.name_taken"
    assert (outbox(server) / "acme_856_0001.x12").read_bytes() == b"someone else's file"


def test_sftp_same_size_different_bytes_is_not_taken_as_sent(server: SftpTestServer) -> None:
    ours = message()
    theirs = bytes(b ^ 1 for b in ours.payload)  # same size, other content
    (outbox(server) / ours.filename).write_bytes(theirs)
    with pytest.raises(SendError) as info:
        SftpSender(server.transport()).send(ours)
    assert not info.value.retryable and info.value.kind == "send.name_taken"
    assert "different content" in str(info.value)
    assert (outbox(server) / ours.filename).read_bytes() == theirs


def test_sftp_classifies_errors(server: SftpTestServer, tmp_path: Path) -> None:
    stranger = make_keypair(tmp_path / "stranger")
    cases = {
        "send.auth_failed": server.transport(key_path=stranger.private_path),
        "send.host_key_rejected": server.transport(host_key=make_keypair(tmp_path / "hk").public_line),
        "send.no_destination": server.transport(remote_paths=["no/such/dir"]),
        "send.config_error": server.transport(host_key=None),
    }
    for kind, transport in cases.items():
        with pytest.raises(SendError) as info:
            SftpSender(transport).send(message())
        assert info.value.kind == kind and not info.value.retryable, (kind, info.value)
    with pytest.raises(SendError) as bad_name:
        SftpSender(server.transport()).send(message("../escape.x12"))
    assert bad_name.value.kind == "send.bad_filename" and not bad_name.value.retryable
    server.stop()
    with pytest.raises(SendError) as down:
        SftpSender(server.transport()).send(message())
    assert down.value.kind == "send.unreachable" and down.value.retryable


def test_sftp_dropped_mid_upload_leaves_no_final_file_then_retry_succeeds(server: SftpTestServer) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    dropped: list[int] = []

    def drop(path: str, done: int, total: int) -> None:
        if done > 512 * 1024 and not dropped:
            assert isinstance(server, OpenSshServer)
            dropped.append(server.drop_connections())

    if isinstance(server, AsyncsshServer):
        server.faults.abort_write_after = 512 * 1024
    sender = SftpSender(server.transport(), progress=drop if isinstance(server, OpenSshServer) else None)
    with pytest.raises(SendError) as info:
        sender.send(message("big.x12", payload))
    assert info.value.retryable and info.value.kind == "send.connection_lost", info.value
    assert not (outbox(server) / "big.x12").exists()  # never half a file under the final name
    if isinstance(server, AsyncsshServer):
        server.faults.abort_write_after = None
    assert dropped[0] >= 1 if isinstance(server, OpenSshServer) else not dropped
    dropped.append(0)
    result = sender.send(message("big.x12", payload))  # the outbox's retry: reconnects
    assert not result.already_sent
    assert (outbox(server) / "big.x12").read_bytes() == payload
    assert sorted(p.name for p in outbox(server).iterdir()) == ["big.x12"]  # temp name renamed away


def test_sftp_rename_fallback_without_posix_rename(faulty: AsyncsshServer) -> None:
    faulty.faults.no_posix_rename = True
    SftpSender(faulty.transport()).send(message())
    assert [p.name for p in outbox(faulty).iterdir()] == ["acme_856_0001.x12"]


def test_sftp_permission_denied_is_not_retryable(faulty: AsyncsshServer) -> None:
    faulty.faults.deny_rename = True
    with pytest.raises(SendError) as info:
        SftpSender(faulty.transport()).send(message())
    assert info.value.kind == "send.permission_denied" and not info.value.retryable
    assert not (outbox(faulty) / "acme_856_0001.x12").exists()


# --------------------------------------------------------------------------- folder and memory


def test_folder_sender_atomic_and_idempotent(tmp_path: Path) -> None:
    sender = FolderSender(tmp_path)
    first = sender.send(message())
    assert (tmp_path / "acme_856_0001.x12").read_bytes() == FIXTURE.read_bytes()
    assert not first.already_sent and sender.send(message()).already_sent
    assert [p.name for p in tmp_path.iterdir()] == ["acme_856_0001.x12"]
    with pytest.raises(SendError) as taken:
        sender.send(message(payload=b"different"))
    assert not taken.value.retryable and taken.value.kind == "send.name_taken"
    with pytest.raises(SendError) as escape:
        sender.send(message("../x.x12"))
    assert escape.value.kind == "send.bad_filename"
    with pytest.raises(SendError) as missing:
        FolderSender(tmp_path / "nope").send(message())
    assert missing.value.kind == "send.no_destination" and not missing.value.retryable


def test_memory_sender_records_and_fails_on_demand() -> None:
    sender = MemorySender()
    sender.failures.append(SendError("busy", retryable=True))
    with pytest.raises(SendError):
        sender.send(message())
    assert not sender.send(message()).already_sent
    assert sender.send(message()).already_sent
    assert list(sender.sent) == ["out-acme_856_0001.x12"] and sender.attempts == 3


def test_folder_sender_retry_overwrites_a_leftover_temp_file(tmp_path: Path) -> None:
    """A crash mid-write leaves the fixed temp name; the retry reuses it, so no stray temp files pile up."""
    from outbound.senders.base import FolderSender, OutboundMessage

    (tmp_path / ".ack_1.x12.part").write_bytes(b"half a 997")
    FolderSender(tmp_path).send(OutboundMessage("p", "ack_1.x12", b"ISA*whole*997~", "k1"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ack_1.x12"]
    assert (tmp_path / "ack_1.x12").read_bytes() == b"ISA*whole*997~"
