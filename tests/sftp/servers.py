"""Real SFTP servers for tests: asyncssh's SFTP server in-process and OpenSSH sshd on loopback.

Both expose the same small surface (``host``, ``port``, ``root``, ``host_key_line``, ``start``,
``stop``, ``restart``, ``transport``) so tests can be parametrized over them. Keys are generated
into temp dirs by the tests; nothing secret is committed.

The asyncssh server takes ``Faults`` (abort mid-read/-write, refuse deletes, list hostile names,
no posix-rename) to play a misbehaving partner. OpenSSH plays a well-behaved one; faults there
are made by killing its per-connection processes (``drop_connections``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from partners.profile import SftpTransport

SSHD = Path("/usr/sbin/sshd")


@dataclass
class KeyPair:
    """A test SSH key pair: private key file (OpenSSH format) and the public "type base64" line."""

    private_path: Path
    public_line: str


def make_keypair(path: Path, algorithm: str = "ssh-ed25519") -> KeyPair:
    """Generate a fresh key pair into ``path`` (mode 0600) and ``path.pub``."""
    key = asyncssh.generate_private_key(algorithm)
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    public_line = key.export_public_key().decode().strip()
    path.with_suffix(".pub").write_text(public_line + "\n")
    return KeyPair(path, " ".join(public_line.split()[:2]))


def free_port() -> int:
    """A currently free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_banner(port: int, timeout: float = 10.0) -> None:
    """Block until something on the port sends an SSH banner."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.02)
    raise RuntimeError(f"no SSH server on port {port}: {last}")


# --------------------------------------------------------------------------- asyncssh


@dataclass
class Faults:
    """Ways the in-process asyncssh server misbehaves; tests flip these between polls."""

    abort_read_after: int | None = None  # drop the connection once this many bytes were read
    abort_write_after: int | None = None  # drop the connection once this many bytes were written
    deny_remove: bool = False  # remove() answers permission denied
    deny_rename: bool = False  # rename()/posix_rename() answer permission denied
    no_posix_rename: bool = False  # posix-rename@openssh.com answers "unsupported"
    extra_names: list[str] = field(default_factory=list)  # listed but nonexistent hostile names
    read_delay: float = 0.0  # seconds slept before each read (a slow partner)
    removes: int = 0  # counts successful removes (for assertions)


class _FaultySftpServer(asyncssh.SFTPServer):
    """asyncssh's SFTP server chrooted to a temp dir, with injectable faults."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path, faults: Faults) -> None:
        super().__init__(chan, chroot=str(root).encode())
        self.faults = faults
        self._read = 0
        self._written = 0

    async def read(self, file_obj: object, offset: int, size: int) -> bytes:  # type: ignore[override]
        """Read, optionally slowly, optionally dropping the connection part way."""
        if self.faults.read_delay:
            await asyncio.sleep(self.faults.read_delay)
        limit = self.faults.abort_read_after
        if limit is not None and self._read + size > limit:
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("test fault: connection dropped mid-read")
        self._read += size
        data: bytes = super().read(file_obj, offset, size)  # type: ignore[assignment]
        return data

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        """Write, optionally dropping the connection part way."""
        limit = self.faults.abort_write_after
        if limit is not None and self._written + len(data) > limit:
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("test fault: connection dropped mid-write")
        self._written += len(data)
        return super().write(file_obj, offset, data)  # type: ignore[return-value]

    def remove(self, path: bytes) -> None:
        """Remove, or refuse with permission denied."""
        if self.faults.deny_remove:
            raise asyncssh.SFTPPermissionDenied("test fault: remove denied")
        super().remove(path)
        self.faults.removes += 1

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        """Rename, or refuse with permission denied."""
        if self.faults.deny_rename:
            raise asyncssh.SFTPPermissionDenied("test fault: rename denied")
        super().rename(oldpath, newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        """posix-rename, or refuse (denied / unsupported)."""
        if self.faults.deny_rename:
            raise asyncssh.SFTPPermissionDenied("test fault: rename denied")
        if self.faults.no_posix_rename:
            raise asyncssh.SFTPOpUnsupported("test fault: posix-rename unsupported")
        super().posix_rename(oldpath, newpath)

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        """List the directory, plus the hostile names from ``faults.extra_names``."""
        async for name in super().scandir(path):
            yield name
        for extra in self.faults.extra_names:
            attrs = asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_REGULAR, size=11,
                                       permissions=0o100644, mtime=int(time.time()) - 60)
            yield asyncssh.SFTPName(extra.encode("utf-8", "surrogateescape"), attrs=attrs)


class AsyncsshServer:
    """asyncssh's SFTP server on a loopback port, run by a background thread with its own loop."""

    kind = "asyncssh"
    host = "127.0.0.1"

    def __init__(self, workdir: Path, client_key: KeyPair) -> None:
        self.workdir = workdir
        self.root = workdir / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.client_key = client_key
        self.faults = Faults()
        self.port = free_port()
        self._new_host_key()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="asyncssh-server", daemon=True)
        self._thread.start()
        self._acceptor: Any = None

    def _new_host_key(self) -> None:
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_line = " ".join(self._host_key.export_public_key().decode().split()[:2])

    def _run(self, coro: Any, timeout: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        """Start listening (on the same port as before, after a stop)."""
        async def listen() -> Any:
            return await asyncssh.listen(
                self.host, self.port, server_host_keys=[self._host_key],
                authorized_client_keys=asyncssh.import_authorized_keys(self.client_key.public_line),
                sftp_factory=lambda chan: _FaultySftpServer(chan, self.root, self.faults),
                allow_scp=False, reuse_address=True,
            )
        self._acceptor = self._run(listen())

    def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._acceptor is None:
            return
        acceptor, self._acceptor = self._acceptor, None

        async def close() -> None:
            acceptor.close()
            await acceptor.wait_closed()
        self._run(close())

    def restart(self, new_host_key: bool = False) -> None:
        """Stop and start again on the same port, optionally with a brand-new host key."""
        self.stop()
        if new_host_key:
            self._new_host_key()
        self.start()

    def close(self) -> None:
        """Stop the server, let its connection tasks finish, and stop the loop thread."""
        self.stop()

        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            self._run(drain(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def transport(self, **overrides: Any) -> SftpTransport:
        """An SftpTransport pointing at this server with the test client key and pinned host key."""
        return _transport(self, overrides)


# --------------------------------------------------------------------------- OpenSSH


def _children_of(pid: int) -> list[int]:
    """All descendant pids of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


class OpenSshServer:
    """OpenSSH sshd on a free loopback port with a temp config: key auth only, internal-sftp."""

    kind = "openssh"
    host = "127.0.0.1"

    def __init__(self, workdir: Path, client_key: KeyPair) -> None:
        self.workdir = workdir
        self.root = workdir / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.client_key = client_key
        self.port = free_port()
        self.user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
        self._proc: subprocess.Popen[bytes] | None = None
        self._new_host_key()

    def _new_host_key(self) -> None:
        key_path = self.workdir / "ssh_host_ed25519_key"
        key_path.unlink(missing_ok=True)
        self.host_key_line = make_keypair(key_path).public_line

    def _write_config(self) -> Path:
        (self.workdir / "authorized_keys").write_text(self.client_key.public_line + "\n")
        config = self.workdir / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.workdir / 'ssh_host_ed25519_key'}",
            f"PidFile {self.workdir / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            f"AllowUsers {self.user}",
            "StrictModes no",
            "UsePAM no",
            "Subsystem sftp internal-sftp",
            f"ForceCommand internal-sftp -d {self.root}",
            "LogLevel ERROR",
            "MaxStartups 100:30:200",
            "",
        ]))
        return config

    def start(self) -> None:
        """Start sshd in the foreground (-D -e) and wait for its banner."""
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        config = self._write_config()
        log = open(self.workdir / "sshd.log", "ab")  # noqa: SIM115 - handed to the child
        self._proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                                      stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        try:
            wait_for_banner(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"sshd did not start: {(self.workdir / 'sshd.log').read_text()}") from None

    def drop_connections(self) -> int:
        """Kill every per-connection sshd process (a dropped connection); returns how many."""
        if self._proc is None:
            return 0
        killed = 0
        for pid in _children_of(self._proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        return killed

    def stop(self) -> None:
        """Stop sshd and every session it started."""
        if self._proc is None:
            return
        self.drop_connections()
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None

    def restart(self, new_host_key: bool = False) -> None:
        """Stop and start again on the same port, optionally with a brand-new host key."""
        self.stop()
        if new_host_key:
            self._new_host_key()
        self.start()

    def close(self) -> None:
        """Stop the server."""
        self.stop()

    def transport(self, **overrides: Any) -> SftpTransport:
        """An SftpTransport pointing at this server with the test client key and pinned host key."""
        overrides.setdefault("username", self.user)
        return _transport(self, overrides)


SftpTestServer = AsyncsshServer | OpenSshServer


def _transport(server: SftpTestServer, overrides: dict[str, Any]) -> SftpTransport:
    settings: dict[str, Any] = {
        "host": server.host, "port": server.port, "username": "partner",
        "key_path": server.client_key.private_path, "host_key": server.host_key_line,
        "remote_paths": ["inbox"], "poll_interval_seconds": 0.05, "connect_timeout_seconds": 10.0,
    }
    settings.update(overrides)
    return SftpTransport(**settings)


def sshd_available() -> bool:
    """True when OpenSSH's sshd binary is installed."""
    return SSHD.exists()


def start_server(kind: str, workdir: Path, client_key: KeyPair) -> SftpTestServer:
    """Start a test server of the given kind ("asyncssh" or "openssh") in ``workdir``."""
    factory: Callable[[Path, KeyPair], SftpTestServer] = AsyncsshServer if kind == "asyncssh" else OpenSshServer
    server = factory(workdir, client_key)
    server.start()
    (server.root / "inbox").mkdir(exist_ok=True)
    return server
