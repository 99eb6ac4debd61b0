"""SFTP poller: fetch complete files from a partner's SFTP server, land them, then let go of them.

Rules:
- The server is identified by its host key, pinned in the profile (``host_key``: "type base64") or
  in a ``known_hosts`` file. An unknown or changed key is refused (paramiko ``RejectPolicy``) and
  alerted; it is never learned automatically.
- Remote names are not trusted: ``..``, ``/``, ``\\``, NUL or other control characters, empty
  names and names over 255 bytes are refused with an alert and never downloaded. So are files
  larger than ``max_file_bytes``.
- A file is taken only when complete: with ``ready_suffix`` set, only names ending with it;
  otherwise when its size and mtime are the same on two polls in a row (``PollState.seen``).
- Order for each file: download to a temp file in the spool dir -> check its size against the
  remote stat -> ``lander.land`` -> only then delete the remote file (or move it to
  ``remote_done_path``). The spool copy is not fsynced: until ``land`` returns, the server's copy
  is the durable one, and the Lander archives durably before it returns. A crash between landing
  and deleting lands the file again on the next run; the Lander is idempotent on
  ``transport_id`` and answers ``already_landed=True``, after which we delete it again. Nothing
  is lost and nothing is recorded twice.
- ``transport_id`` is ``host:port:path:size:mtime:<sha256 prefix of the bytes>``. The content
  part matters: a partner re-using one file name can upload new bytes with the same size and
  mtime (``put -p``, whole-second clocks); without it the new file would be taken for the old,
  answered ``already_landed`` and deleted without ever being landed.
- If the delete/move is refused (permission denied) we alert once and remember the transport id
  in ``PollState.landed_unacked``, so later polls retry only the delete, without downloading
  or landing again. (A fresh process without that memory downloads it once more and gets
  ``already_landed=True`` from the Lander - harmless.)
- Connection-level failures (refused, timeout, auth, host key, dropped connection) back off
  exponentially per partner; after ``failures_before_alert`` consecutive failures one alert is
  raised (host key trouble alerts at once); a success resets the count.
- paramiko and socket errors are mapped to ``TransportError`` subclasses here, at the boundary;
  paramiko is imported by this module only (on the inbound side).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fnmatch
import hashlib
import logging
import os
import posixpath
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import paramiko

from inbox.base import Alerter, Lander, LandingReceipt, RawDocument
from partners.profile import PartnerProfile, SftpTransport

log = logging.getLogger(__name__)

CHUNK_BYTES = 32 * 1024
MAX_NAME_BYTES = 255
DEFAULT_MAX_BACKOFF_SECONDS = 3600.0

ProgressCallback = Callable[[str, int, int], None]  # (remote path, bytes so far, total bytes)


# --------------------------------------------------------------------------- errors


class TransportError(Exception):
    """An SFTP exchange failed. ``local`` says whose fault it is: ours (config) or the remote side."""

    kind = "sftp.error"
    local = False


class ConfigError(TransportError):
    """Our SFTP settings are unusable (bad pinned key, missing key file or secret)."""

    kind = "sftp.config_error"
    local = True


class ConnectFailed(TransportError):
    """The server could not be reached or did not speak SSH (refused, timeout, DNS, banner)."""

    kind = "sftp.unreachable"


class HostKeyRejected(TransportError):
    """The server's host key is unknown or differs from the pinned one; we refused to talk to it."""

    kind = "sftp.host_key_rejected"


class AuthFailed(TransportError):
    """The server refused our credentials."""

    kind = "sftp.auth_failed"


class ConnectionLost(TransportError):
    """The SSH connection dropped or stalled in the middle of a session."""

    kind = "sftp.connection_lost"


class SpoolError(TransportError):
    """Our own spool directory could not take the download (disk full, permissions)."""

    kind = "sftp.spool_error"
    local = True


class RemoteFileError(TransportError):
    """The server refused one file operation (the connection itself is fine)."""

    kind = "sftp.remote_error"


class RemotePermissionDenied(RemoteFileError):
    """The server said permission denied."""

    kind = "sftp.permission_denied"


class RemoteNotFound(RemoteFileError):
    """The remote file or directory does not exist (any more)."""

    kind = "sftp.not_found"


class _UnknownHostKey(paramiko.SSHException):
    """Raised by our RejectPolicy so an unknown key is told apart from other SSH failures."""


class _RefuseUnknownHost(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, raising a distinct exception type."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> NoReturn:
        """Refuse a server whose host key we do not know."""
        raise _UnknownHostKey(
            f"host key {key.get_name()} {key.get_base64()[:24]}... of {hostname} is not pinned"
        )


# --------------------------------------------------------------------------- session


def _known_hosts_name(host: str, port: int) -> str:
    """The host entry name known_hosts uses for this host and port."""
    return host if port == 22 else f"[{host}]:{port}"


def _parse_host_key(line: str) -> paramiko.PKey:
    """A paramiko key from a pinned "type base64 [comment]" line."""
    parts = line.split()
    if len(parts) < 2:
        raise ConfigError(f"pinned host_key {line!r} is not 'type base64'")
    try:
        return paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (binascii.Error, ValueError, paramiko.SSHException) as exc:
        raise ConfigError(f"pinned host_key of type {parts[0]!r} cannot be read: {exc}") from exc


def _credentials(transport: SftpTransport) -> dict[str, Any]:
    """paramiko connect() keyword arguments for the configured key or password."""
    creds: dict[str, Any] = {}
    if transport.key_path is not None:
        passphrase: bytes | None = None
        if transport.key_passphrase_env:
            env_value = os.environ.get(transport.key_passphrase_env)
            if env_value is None:
                raise ConfigError(f"env var {transport.key_passphrase_env} (key passphrase) is not set")
            passphrase = env_value.encode()
        try:
            creds["pkey"] = paramiko.PKey.from_path(transport.key_path, passphrase)  # type: ignore[arg-type]
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise ConfigError(f"private key {transport.key_path} cannot be loaded: {exc}") from exc
    if transport.password_env:
        password = os.environ.get(transport.password_env)
        if password is None:
            raise ConfigError(f"env var {transport.password_env} (password) is not set")
        creds["password"] = password
    if not creds:
        raise ConfigError("neither key_path nor password_env is configured")
    return creds


def open_session(transport: SftpTransport) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
    """Connect, verify the host key, authenticate and open SFTP; raises TransportError subclasses."""
    if transport.host_key is None and transport.known_hosts is None:
        raise ConfigError("no host_key pinned and no known_hosts file: refusing to connect blind")
    client = paramiko.SSHClient()
    try:
        if transport.known_hosts is not None:
            try:
                client.load_host_keys(str(transport.known_hosts))
            except OSError as exc:
                raise ConfigError(f"known_hosts {transport.known_hosts} cannot be read: {exc}") from exc
        if transport.host_key is not None:
            key = _parse_host_key(transport.host_key)
            client.get_host_keys().add(_known_hosts_name(transport.host, transport.port), key.get_name(), key)
        client.set_missing_host_key_policy(_RefuseUnknownHost())
        timeout = transport.connect_timeout_seconds
        client.connect(
            hostname=transport.host, port=transport.port, username=transport.username,
            timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
            look_for_keys=False, allow_agent=False, **_credentials(transport),
        )
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(timeout)  # type: ignore[union-attr]
        return client, sftp
    except TransportError:
        client.close()
        raise
    except BaseException as exc:
        client.close()
        raise _map_connect_error(exc, transport) from exc


def _map_connect_error(exc: BaseException, transport: SftpTransport) -> BaseException:
    """Our TransportError for an exception raised while connecting (others pass through)."""
    where = f"{transport.host}:{transport.port}"
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyRejected(
            f"host key of {where} CHANGED: got {exc.key.get_name()} {exc.key.get_base64()[:24]}..., "
            f"pinned {exc.expected_key.get_name()} {exc.expected_key.get_base64()[:24]}..."
        )
    if isinstance(exc, _UnknownHostKey):
        return HostKeyRejected(str(exc))
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthFailed(f"{where} refused user {transport.username!r}: {exc}")
    if isinstance(exc, paramiko.SSHException | OSError | EOFError):
        return ConnectFailed(f"cannot connect to {where}: {type(exc).__name__}: {exc}")
    return exc


def _map_session_error(exc: BaseException, client: paramiko.SSHClient, what: str) -> BaseException:
    """Our TransportError for an exception raised during an open session (others pass through)."""
    ssh = client.get_transport()
    alive = ssh is not None and ssh.is_active()
    if isinstance(exc, PermissionError):
        return RemotePermissionDenied(f"{what}: permission denied ({exc.strerror or exc})")
    if isinstance(exc, FileNotFoundError):
        return RemoteNotFound(f"{what}: no such file ({exc.strerror or exc})")
    if isinstance(exc, socket.timeout | TimeoutError):
        return ConnectionLost(f"{what}: server stopped answering (timeout)")
    if not alive or isinstance(exc, EOFError | paramiko.SSHException | ConnectionError):
        return ConnectionLost(f"{what}: connection dropped ({type(exc).__name__}: {exc})")
    if isinstance(exc, OSError):
        return RemoteFileError(f"{what}: server refused ({exc})")
    return exc


@contextmanager
def _remote(client: paramiko.SSHClient, what: str) -> Iterator[None]:
    """Map paramiko/socket errors raised inside the block to TransportError subclasses."""
    try:
        yield
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise _map_session_error(exc, client, what) from exc


# --------------------------------------------------------------------------- names


def unsafe_name_reason(name: str) -> str | None:
    """Why a remote file name must not be used locally, or None when it is safe."""
    if not name:
        return "empty name"
    if name in (".", ".."):
        return "dot name"
    if "/" in name or "\\" in name:
        return "name contains a path separator"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "name contains NUL or control characters"
    try:
        encoded = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "name is not encodable"
    if len(encoded) > MAX_NAME_BYTES:
        return f"name is {len(encoded)} bytes (limit {MAX_NAME_BYTES})"
    return None


# --------------------------------------------------------------------------- state and results


@dataclass
class PollState:
    """What one partner's poller remembers between polls (in memory; losing it is safe)."""

    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # remote path -> (size, mtime)
    # remote path -> (listing key host:port:path:size:mtime, transport_id) of a landed file not yet deleted
    landed_unacked: dict[str, tuple[str, str]] = field(default_factory=dict)
    alerted: set[str] = field(default_factory=set)  # dedup keys of per-file alerts already raised
    consecutive_failures: int = 0
    failure_alerted: bool = False


@dataclass(frozen=True, slots=True)
class LandedFile:
    """A remote file that was landed (or found already landed) in this poll."""

    remote_path: str
    transport_id: str
    receipt: LandingReceipt
    acknowledged: bool  # deleted or moved on the server


@dataclass
class PollResult:
    """What one poll did: files landed, skipped (not ready), refused (unsafe), and errors."""

    partner_id: str
    landed: list[LandedFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (remote path, why)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (remote name, why)
    errors: list[str] = field(default_factory=list)
    failure: TransportError | None = None  # the connection-level failure that ended the poll

    @property
    def ok(self) -> bool:
        """True when the session itself worked (per-file errors may still be listed)."""
        return self.failure is None


class _Stopped(Exception):
    """The poller was asked to stop in the middle of a transfer."""


# --------------------------------------------------------------------------- poller


class SftpPoller:
    """Polls one partner's SFTP server and lands complete files through a Lander."""

    def __init__(self, profile: PartnerProfile, transport: SftpTransport, lander: Lander,
                 alerter: Alerter, spool_dir: Path, state: PollState | None = None, *,
                 max_backoff_seconds: float = DEFAULT_MAX_BACKOFF_SECONDS,
                 progress: ProgressCallback | None = None) -> None:
        if transport.after_download == "move" and not transport.remote_done_path:
            raise ConfigError(f"partner {profile.id}: after_download='move' needs remote_done_path")
        self.profile = profile
        self.transport = transport
        self.lander = lander
        self.alerter = alerter
        self.spool_dir = Path(spool_dir)
        self.state = state if state is not None else PollState()
        self.max_backoff_seconds = max_backoff_seconds
        self.progress = progress

    # ---- public

    def poll_once(self, stop: threading.Event | None = None) -> PollResult:
        """Connect, take every complete file once, disconnect; never raises for transport trouble."""
        result = PollResult(partner_id=self.profile.id)
        try:
            client, sftp = open_session(self.transport)
        except TransportError as exc:
            self._failed(exc, result)
            return result
        try:
            self._poll_session(client, sftp, result, stop)
        except TransportError as exc:
            self._failed(exc, result)
            return result
        except _Stopped:
            result.errors.append("stopped in the middle of a transfer; file left on the server")
        finally:
            client.close()
        self._succeeded()
        return result

    def next_delay(self) -> float:
        """Seconds until the next poll: the interval, doubled per consecutive failure, capped."""
        interval = self.transport.poll_interval_seconds
        failures = self.state.consecutive_failures
        if failures == 0:
            return interval
        backoff: float = interval * 2.0 ** min(failures, 30)
        return min(backoff, max(self.max_backoff_seconds, interval))

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, sleeping ``next_delay()`` between polls (for a thread)."""
        while not stop.is_set():
            try:
                self.poll_once(stop)
            except Exception:  # a bug of ours must not kill the partner's thread silently
                log.exception("sftp poll of partner %s crashed", self.profile.id)
                self.state.consecutive_failures += 1
            stop.wait(self.next_delay())

    # ---- session

    def _poll_session(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient,
                      result: PollResult, stop: threading.Event | None) -> None:
        listed: set[str] = set()
        for remote_dir in self.transport.remote_paths:
            with _remote(client, f"list {remote_dir}"):
                entries = sftp.listdir_attr(remote_dir)
            entries.sort(key=lambda a: (a.st_mtime or 0, a.filename))
            for attrs in entries:
                if stop is not None and stop.is_set():
                    raise _Stopped()
                path = self._consider(client, sftp, remote_dir, attrs, result, stop)
                if path is not None:
                    listed.add(path)
        # Forget what is gone from the server.
        for gone in set(self.state.seen) - listed:
            del self.state.seen[gone]
        for gone in set(self.state.landed_unacked) - listed:
            del self.state.landed_unacked[gone]
        self.state.alerted = {k for k in self.state.alerted if k.split("|", 1)[1] in listed}

    def _consider(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient, remote_dir: str,
                  attrs: paramiko.SFTPAttributes, result: PollResult,
                  stop: threading.Event | None) -> str | None:
        """Decide about one directory entry and take it if it is complete; returns its path."""
        t = self.transport
        name = attrs.filename
        reason = unsafe_name_reason(name)
        if reason is not None:
            result.refused.append((name, reason))
            self._file_alert(
                "sftp.bad_remote_name", f"{remote_dir}/{name!r}",
                f"Refused remote file name {name!r} in {remote_dir!r} on {t.host}: {reason}",
                f"The partner's server lists a file whose name is unsafe ({reason}); it was not "
                f"downloaded. Ask the partner to rename or remove it.",
            )
            return f"{remote_dir}/{name!r}"
        path = posixpath.join(remote_dir, name)
        if attrs.st_mode is not None and not stat.S_ISREG(attrs.st_mode):
            result.skipped.append((path, "not a regular file"))
            return path
        if not any(fnmatch.fnmatchcase(name, p) for p in t.patterns):
            result.skipped.append((path, "does not match patterns"))
            return path
        if t.ready_suffix and not name.endswith(t.ready_suffix):
            result.skipped.append((path, f"not ready (no {t.ready_suffix} suffix)"))
            return path
        size = attrs.st_size or 0
        mtime = int(attrs.st_mtime or 0)
        if size > t.max_file_bytes:
            result.refused.append((path, f"{size} bytes is over max_file_bytes {t.max_file_bytes}"))
            self._file_alert(
                "sftp.file_too_large", path,
                f"Refused {path} on {t.host}: {size} bytes (limit {t.max_file_bytes})",
                "The file was not downloaded. Raise max_file_bytes for this partner or ask them to split it.",
            )
            return path
        listing_key = f"{t.host}:{t.port}:{path}:{size}:{mtime}"
        unacked = self.state.landed_unacked.get(path)
        if unacked is not None and unacked[0] == listing_key:
            self._acknowledge(client, sftp, path, unacked[1], result, receipt=None)
            return path
        if not t.ready_suffix and self.state.seen.get(path) != (size, mtime):
            self.state.seen[path] = (size, mtime)
            result.skipped.append((path, "size/mtime not yet stable"))
            return path
        try:
            download = self._download(client, sftp, path, size, stop)
        except (RemoteFileError, SpoolError) as exc:
            result.errors.append(f"{exc.kind}: {exc}")
            return path
        if download is None:
            self.state.seen.pop(path, None)
            result.skipped.append((path, "changed while downloading"))
            return path
        spooled, sha256 = download
        transport_id = f"{listing_key}:{sha256[:16]}"
        try:
            raw = RawDocument(
                transport="sftp", transport_id=transport_id,
                filename=name.removesuffix(t.ready_suffix) if t.ready_suffix else name,
                received_at=dt.datetime.now(dt.UTC), body_path=spooled, partner_hint=self.profile.id,
                metadata={"host": t.host, "port": str(t.port), "remote_path": path,
                          "size": str(size), "mtime": str(mtime), "sha256": sha256},
            )
            receipt = self.lander.land(raw)
        except Exception as exc:  # the store is ours; the file stays on the server for next time
            log.exception("landing %s failed", transport_id)
            result.errors.append(f"landing {path} failed: {type(exc).__name__}: {exc}")
            return path
        finally:
            spooled.unlink(missing_ok=True)
        self.state.seen.pop(path, None)
        self.state.landed_unacked[path] = (listing_key, transport_id)
        self._acknowledge(client, sftp, path, transport_id, result, receipt=receipt)
        return path

    def _download(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient, path: str, size: int,
                  stop: threading.Event | None) -> tuple[Path, str] | None:
        """Copy a remote file into a spool temp file: (its path, SHA-256 hex of the bytes), or None when
        the size is not the listed one."""
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=self.spool_dir, prefix="sftp-", suffix=".part")
        except OSError as exc:
            raise SpoolError(f"cannot create a spool file in {self.spool_dir}: {exc}") from exc
        tmp = Path(tmp_name)
        keep = False
        try:
            with os.fdopen(fd, "wb") as out, _remote(client, f"download {path}"):
                with sftp.open(path, "rb") as remote:
                    remote.prefetch(size)
                    done = 0
                    digest = hashlib.sha256()
                    while True:
                        chunk = remote.read(CHUNK_BYTES)
                        if not chunk:
                            break
                        done += len(chunk)
                        if done > size:  # still growing: not complete after all
                            return None
                        digest.update(chunk)
                        try:
                            out.write(chunk)
                        except OSError as exc:
                            raise SpoolError(f"cannot write spool file {tmp}: {exc}") from exc
                        if self.progress is not None:
                            self.progress(path, done, size)
                        if stop is not None and stop.is_set():
                            raise _Stopped()
                    after = remote.stat().st_size
                try:
                    out.flush()  # no fsync: the spool copy is scratch; the Lander makes the bytes durable
                except OSError as exc:
                    raise SpoolError(f"cannot flush spool file {tmp}: {exc}") from exc
            if done != size or after != size:
                return None
            keep = True
            return tmp, digest.hexdigest()
        finally:
            if not keep:
                tmp.unlink(missing_ok=True)

    def _acknowledge(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient, path: str,
                     transport_id: str, result: PollResult, receipt: LandingReceipt | None) -> None:
        """Delete or move a landed file on the server; alert once if the server refuses.

        ``receipt`` is None when only a delete left over from an earlier poll is retried.
        """
        t = self.transport
        acked = False
        try:
            with _remote(client, f"{t.after_download} {path}"):
                if t.after_download == "move":
                    assert t.remote_done_path is not None
                    target = posixpath.join(t.remote_done_path, posixpath.basename(path))
                    try:
                        sftp.posix_rename(path, target)  # replaces an older done file of that name
                    except OSError:
                        ssh = client.get_transport()
                        if ssh is None or not ssh.is_active():
                            raise
                        sftp.rename(path, target)  # server without posix-rename@openssh.com
                else:
                    sftp.remove(path)
            acked = True
            self.state.landed_unacked.pop(path, None)
        except RemoteFileError as exc:
            result.errors.append(f"{exc.kind}: {exc}")
            self._file_alert(
                "sftp.ack_failed", path,
                f"Cannot {t.after_download} {path} on {t.host} after landing it",
                f"{exc}. The file is safely landed ({transport_id}) and will not be landed again; "
                f"the poller keeps retrying the {t.after_download}. Fix the permissions on the server.",
            )
        finally:
            if receipt is not None:
                result.landed.append(LandedFile(path, transport_id, receipt, acked))

    # ---- bookkeeping

    def _file_alert(self, kind: str, path: str, subject: str, body: str) -> None:
        """Raise a per-file alert once for as long as the file stays on the server."""
        key = f"{kind}|{path}"
        if key in self.state.alerted:
            return
        self.state.alerted.add(key)
        self.alerter.alert(kind, subject, body, partner_id=self.profile.id,
                           dedup_key=f"{kind}:{self.profile.id}:{self.transport.host}:{path}")

    def _failed(self, exc: TransportError, result: PollResult) -> None:
        """Count a connection-level failure; alert at the threshold (host key trouble: at once)."""
        result.failure = exc
        result.errors.append(f"{exc.kind}: {exc}")
        self.state.consecutive_failures += 1
        log.warning("sftp poll of partner %s failed (%d in a row): %s", self.profile.id,
                    self.state.consecutive_failures, exc)
        urgent = isinstance(exc, HostKeyRejected | ConfigError)
        threshold = 1 if urgent else max(1, self.transport.failures_before_alert)
        if self.state.consecutive_failures >= threshold and not self.state.failure_alerted:
            self.state.failure_alerted = True
            t = self.transport
            whose = "our configuration" if exc.local else "the partner's server or the network"
            self.alerter.alert(
                exc.kind,
                f"SFTP polling of {self.profile.id} ({t.host}:{t.port}) failing: {exc.kind}",
                f"{exc}\n{self.state.consecutive_failures} consecutive failure(s); likely fault: {whose}. "
                f"Retrying with backoff (next in {self.next_delay():.0f}s).",
                partner_id=self.profile.id, dedup_key=f"sftp.poll_failing:{self.profile.id}",
            )

    def _succeeded(self) -> None:
        """Reset the failure count after a working session."""
        self.state.consecutive_failures = 0
        self.state.failure_alerted = False


class SftpPollGroup:
    """Runs one thread per partner poller, so a slow or dead partner never delays the others."""

    def __init__(self, pollers: Sequence[SftpPoller]) -> None:
        self.pollers = list(pollers)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one daemon thread per poller."""
        self._stop.clear()
        for poller in self.pollers:
            thread = threading.Thread(target=poller.run, args=(self._stop,),
                                      name=f"sftp-poll-{poller.profile.id}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask every poller to stop (between files or chunks) and wait; True when all have stopped."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        alive = [t for t in self._threads if t.is_alive()]
        self._threads = alive
        return not alive

    def __enter__(self) -> SftpPollGroup:
        """Start the group."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the group."""
        self.stop()
