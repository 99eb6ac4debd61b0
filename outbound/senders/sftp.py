"""SFTP push: upload a message to a partner's SFTP server so it appears there whole or not at all.

Rules:
- Upload to ``<name><temp_suffix>``, check the remote size, then rename to the final name
  (``posix-rename@openssh.com`` where the server has it, else plain rename, removing a stale
  target first). A half-written file never carries the final name.
- If the final name already holds exactly the payload's bytes, an earlier attempt got as far as
  the rename before crashing: treat it as sent (``already_sent=True``). Other bytes under that
  name (even of the same size) are a conflict a person must look at (not retryable). If the partner has already picked
  up and removed our earlier copy, a resend delivers it again: their side dedups on control numbers.
- The host key must be pinned (``host_key``) or listed in ``known_hosts``; unknown or changed
  keys are refused, never learned.
- Every failure is a ``SendError`` with ``retryable`` set; paramiko is imported here only (on
  the outbound side) and its errors are mapped at this boundary.
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import paramiko

from outbound.senders.base import OutboundMessage, Sender, SendError, SendResult, check_filename
from partners.profile import SftpTransport

CHUNK_BYTES = 32 * 1024

UploadProgress = Callable[[str, int, int], None]  # (remote temp path, bytes written, total)


class _UnknownHostKey(paramiko.SSHException):
    """Raised by our RejectPolicy so an unknown host key is told apart from other SSH failures."""


class _RefuseUnknownHost(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, raising a distinct exception type."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> NoReturn:
        """Refuse a server whose host key we do not know."""
        raise _UnknownHostKey(f"host key {key.get_name()} of {hostname} is not pinned")


def _config_error(message: str) -> SendError:
    """A non-retryable error in our own SFTP settings."""
    return SendError(message, retryable=False, kind="send.config_error")


class SftpSender(Sender):
    """Pushes messages into ``transport.remote_paths[0]`` on a partner's SFTP server."""

    def __init__(self, transport: SftpTransport, *, progress: UploadProgress | None = None) -> None:
        self.transport = transport
        self.directory = transport.remote_paths[0] if transport.remote_paths else "."
        self.progress = progress
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    # ---- public

    def send(self, message: OutboundMessage) -> SendResult:
        """Upload to a temp name, verify its size, rename into place; raise SendError on failure."""
        check_filename(message.filename)
        final = posixpath.join(self.directory, message.filename)
        temp = final + self.transport.temp_suffix
        size = len(message.payload)
        client, sftp = self._session()
        try:
            with self._mapped(client, f"upload {final}"):
                existing = self._size_of(sftp, final)
                if existing is not None:
                    if existing == size and self._same_bytes(sftp, final, message.payload):
                        return SendResult(self._where(final), size, already_sent=True)
                    raise SendError(
                        f"{final} already exists on {self.transport.host} with different content "
                        f"({existing} bytes, ours: {size}); not overwriting", retryable=False,
                        kind="send.name_taken")
                with sftp.open(temp, "wb") as remote:
                    remote.set_pipelined(True)
                    for offset in range(0, size, CHUNK_BYTES):
                        remote.write(message.payload[offset:offset + CHUNK_BYTES])
                        if self.progress is not None:
                            self.progress(temp, min(offset + CHUNK_BYTES, size), size)
                uploaded = sftp.stat(temp).st_size
                if uploaded != size:
                    sftp.remove(temp)
                    raise SendError(f"uploaded {temp} has {uploaded} bytes, expected {size}",
                                    retryable=True, kind="send.size_mismatch")
                self._rename(client, sftp, temp, final)
        except SendError as exc:
            if exc.retryable:
                self.close()  # reconnect next time; the session may be half dead
            raise
        return SendResult(self._where(final), size)

    def close(self) -> None:
        """Close the SSH session if one is open."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self._sftp = None

    # ---- session

    def _where(self, path: str) -> str:
        """A printable destination: sftp://user@host:port/path."""
        t = self.transport
        return f"sftp://{t.username}@{t.host}:{t.port}/{path.lstrip('/')}"

    def _session(self) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
        """The open session, connecting (and verifying the host key) when there is none."""
        ssh = self._client.get_transport() if self._client is not None else None
        if self._client is not None and self._sftp is not None and ssh is not None and ssh.is_active():
            return self._client, self._sftp
        self.close()
        t = self.transport
        if t.host_key is None and t.known_hosts is None:
            raise _config_error("no host_key pinned and no known_hosts file: refusing to connect blind")
        client = paramiko.SSHClient()
        try:
            if t.known_hosts is not None:
                try:
                    client.load_host_keys(str(t.known_hosts))
                except OSError as exc:
                    raise _config_error(f"known_hosts {t.known_hosts} cannot be read: {exc}") from exc
            if t.host_key is not None:
                key = _parse_host_key(t.host_key)
                entry = t.host if t.port == 22 else f"[{t.host}]:{t.port}"
                client.get_host_keys().add(entry, key.get_name(), key)
            client.set_missing_host_key_policy(_RefuseUnknownHost())
            timeout = t.connect_timeout_seconds
            client.connect(
                hostname=t.host, port=t.port, username=t.username, timeout=timeout,
                banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
                look_for_keys=False, allow_agent=False, **_credentials(t),
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(timeout)  # type: ignore[union-attr]
        except SendError:
            client.close()
            raise
        except (OSError, EOFError, paramiko.SSHException) as exc:
            client.close()
            raise _map_connect_error(exc, t) from exc
        self._client, self._sftp = client, sftp
        return client, sftp

    @contextmanager
    def _mapped(self, client: paramiko.SSHClient, what: str) -> Iterator[None]:
        """Map paramiko/socket errors inside the block to SendError with retryable set."""
        try:
            yield
        except (OSError, EOFError, paramiko.SSHException) as exc:
            ssh = client.get_transport()
            alive = ssh is not None and ssh.is_active()
            if isinstance(exc, PermissionError):
                raise SendError(f"{what}: permission denied", retryable=False,
                                kind="send.permission_denied") from exc
            if isinstance(exc, FileNotFoundError):
                raise SendError(f"{what}: no such remote directory or file", retryable=False,
                                kind="send.no_destination") from exc
            if isinstance(exc, socket.timeout | TimeoutError):
                raise SendError(f"{what}: server stopped answering", retryable=True,
                                kind="send.connection_lost") from exc
            if not alive or isinstance(exc, EOFError | paramiko.SSHException | ConnectionError):
                raise SendError(f"{what}: connection dropped ({type(exc).__name__}: {exc})",
                                retryable=True, kind="send.connection_lost") from exc
            raise SendError(f"{what}: server failure ({exc})", retryable=True,
                            kind="send.remote_error") from exc

    @staticmethod
    def _same_bytes(sftp: paramiko.SFTPClient, path: str, payload: bytes) -> bool:
        """True when the remote file holds exactly ``payload`` (read back only when a name is taken)."""
        with sftp.open(path, "rb") as remote:
            remote.prefetch(len(payload))
            return remote.read(len(payload) + 1) == payload

    @staticmethod
    def _size_of(sftp: paramiko.SFTPClient, path: str) -> int | None:
        """The remote file's size, or None when it does not exist."""
        try:
            return sftp.stat(path).st_size or 0
        except FileNotFoundError:
            return None

    def _rename(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient, temp: str, final: str) -> None:
        """Atomic rename where the server supports it, else remove the target and rename."""
        try:
            sftp.posix_rename(temp, final)
            return
        except PermissionError:
            raise
        except OSError:
            ssh = client.get_transport()
            if ssh is None or not ssh.is_active():
                raise
        if self._size_of(sftp, final) is not None:
            sftp.remove(final)
        sftp.rename(temp, final)


def _parse_host_key(line: str) -> paramiko.PKey:
    """A paramiko key from a pinned "type base64 [comment]" line."""
    parts = line.split()
    if len(parts) < 2:
        raise _config_error(f"pinned host_key {line!r} is not 'type base64'")
    try:
        return paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (binascii.Error, ValueError, paramiko.SSHException) as exc:
        raise _config_error(f"pinned host_key of type {parts[0]!r} cannot be read: {exc}") from exc


def _credentials(transport: SftpTransport) -> dict[str, Any]:
    """paramiko connect() keyword arguments for the configured key or password."""
    creds: dict[str, Any] = {}
    if transport.key_path is not None:
        passphrase: bytes | None = None
        if transport.key_passphrase_env:
            env_value = os.environ.get(transport.key_passphrase_env)
            if env_value is None:
                raise _config_error(f"env var {transport.key_passphrase_env} (key passphrase) is not set")
            passphrase = env_value.encode()
        try:
            creds["pkey"] = paramiko.PKey.from_path(transport.key_path, passphrase)  # type: ignore[arg-type]
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise _config_error(f"private key {transport.key_path} cannot be loaded: {exc}") from exc
    if transport.password_env:
        password = os.environ.get(transport.password_env)
        if password is None:
            raise _config_error(f"env var {transport.password_env} (password) is not set")
        creds["password"] = password
    if not creds:
        raise _config_error("neither key_path nor password_env is configured")
    return creds


def _map_connect_error(exc: BaseException, t: SftpTransport) -> SendError:
    """SendError for a failure while connecting: host key and auth need a person, the rest may pass."""
    where = f"{t.host}:{t.port}"
    if isinstance(exc, paramiko.BadHostKeyException):
        return SendError(f"host key of {where} CHANGED ({exc.key.get_name()}); refusing to send",
                         retryable=False, kind="send.host_key_rejected")
    if isinstance(exc, _UnknownHostKey):
        return SendError(str(exc), retryable=False, kind="send.host_key_rejected")
    if isinstance(exc, paramiko.AuthenticationException):
        return SendError(f"{where} refused user {t.username!r}: {exc}", retryable=False,
                         kind="send.auth_failed")
    return SendError(f"cannot connect to {where}: {type(exc).__name__}: {exc}", retryable=True,
                     kind="send.unreachable")
