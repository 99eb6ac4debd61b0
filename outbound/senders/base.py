"""The sender contract: hand one outbound message to a partner's transport, or say why not.

Rules:
- ``send`` returns a ``SendResult`` only once the partner can see the whole message under its
  final name; it never leaves a partial file under that name.
- ``send`` raises ``SendError`` for every failure, with ``retryable`` set: True when trying again
  later may work (network, server busy), False when a person has to act (auth, host key,
  permissions, a different file already under that name). Retry timing belongs to the outbox.
- Sending the same message again (same filename, same bytes) after a crash is reported as
  ``already_sent=True`` where the transport can tell, so the outbox can settle the row.
- One module per transport; the third-party driver is imported by that module only.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from outbound.senders.durable import SyncPoint

MAX_NAME_BYTES = 255


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One document to deliver: a file name, its bytes and the key that makes resending safe."""

    partner_id: str
    filename: str
    payload: bytes
    idempotency_key: str
    content_type: str = "application/edi-x12"


@dataclass(frozen=True, slots=True)
class SendResult:
    """Where a message ended up, and whether it was already there from an earlier attempt."""

    destination: str
    size: int
    already_sent: bool = False


class SendError(Exception):
    """A send failed; ``retryable`` tells the outbox whether to try again later or dead-letter it."""

    def __init__(self, message: str, *, retryable: bool, kind: str = "send.error") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.kind = kind


def check_filename(filename: str) -> None:
    """Raise a non-retryable SendError when an outbound file name could escape its folder."""
    problem = None
    if not filename or filename in (".", ".."):
        problem = "empty or dot name"
    elif "/" in filename or "\\" in filename:
        problem = "contains a path separator"
    elif any(ord(c) < 32 or ord(c) == 127 for c in filename):
        problem = "contains control characters"
    elif len(filename.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        problem = f"longer than {MAX_NAME_BYTES} bytes"
    if problem:
        raise SendError(f"outbound file name {filename!r} {problem}", retryable=False, kind="send.bad_filename")


class Sender(ABC):
    """Delivers outbound messages over one transport to one destination."""

    @abstractmethod
    def send(self, message: OutboundMessage) -> SendResult:
        """Deliver the message completely under its final name, or raise SendError."""

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult | SendError]:
        """Deliver several messages in order; each gets its result or its SendError (one by one by default)."""
        results: list[SendResult | SendError] = []
        for message in messages:
            try:
                results.append(self.send(message))
            except SendError as exc:
                results.append(exc)
        return results

    def close(self) -> None:  # noqa: B027 - optional hook, most senders hold nothing open
        """Release any open connection (no-op by default)."""

    def __enter__(self) -> Sender:
        """Use the sender as a context manager."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the sender."""
        self.close()


class MemorySender(Sender):
    """An in-memory sender for tests of our own logic: records messages, can be told to fail.

    ``failures`` is consumed first-in first-out: each queued SendError is raised by one ``send``.
    """

    def __init__(self) -> None:
        self.sent: dict[str, OutboundMessage] = {}  # idempotency_key -> message
        self.attempts = 0
        self.failures: list[SendError] = []

    def send(self, message: OutboundMessage) -> SendResult:
        """Record the message (once per idempotency key) or raise the next queued failure."""
        self.attempts += 1
        check_filename(message.filename)
        if self.failures:
            raise self.failures.pop(0)
        already = message.idempotency_key in self.sent
        self.sent.setdefault(message.idempotency_key, message)
        return SendResult(f"memory:{message.filename}", len(message.payload), already_sent=already)


class FolderSender(Sender):
    """Writes messages into a local folder: temp file + sync + rename, so readers see whole files."""

    def __init__(self, folder: Path, temp_suffix: str = ".part") -> None:
        self.folder = Path(folder)
        self.temp_suffix = temp_suffix

    def send(self, message: OutboundMessage) -> SendResult:
        """Write atomically; the same bytes already under the name count as sent."""
        return _raise_or_return(self.send_many([message])[0])

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult | SendError]:
        """Write every message under its temp name, make them durable together, rename them into place
        and make the renames durable (a ``durable.SyncPoint``: one syncfs, not two fsyncs per file).

        A result is returned only after the final sync, so every reported send survives power loss,
        and no final name ever holds a partial file; if a sync fails, every message written here is
        reported as a retryable failure. A file name that comes twice is sent again after the others.
        """
        results: list[SendResult | SendError | None] = [None] * len(messages)
        later: list[int] = []  # a name already in this batch (its temp name would be shared)
        names: set[str] = set()
        written: list[tuple[int, Path, Path]] = []  # (index, temp, final)
        present: list[tuple[int, Path]] = []  # (index, final) of files already there from an earlier attempt
        try:
            point = SyncPoint(self.folder)
        except FileNotFoundError:
            return [SendError(f"outbound folder {self.folder} does not exist", retryable=False,
                              kind="send.no_destination")] * len(messages)
        except OSError as exc:
            return [SendError(f"outbound folder {self.folder} is not usable: {exc}", retryable=True)] * len(messages)
        with point:
            for i, message in enumerate(messages):
                if message.filename in names:
                    later.append(i)
                    continue
                names.add(message.filename)
                try:
                    outcome = self._write_temp(message)
                except SendError as exc:
                    results[i] = exc
                    continue
                if isinstance(outcome, SendResult):
                    present.append((i, Path(outcome.destination)))
                    results[i] = outcome
                else:
                    written.append((i, *outcome))
                    results[i] = SendResult(str(outcome[1]), len(message.payload))
            if written or present:
                try:
                    if written:
                        point.sync([tmp for _, tmp, _ in written])
                        for _, tmp, final in written:
                            os.replace(tmp, final)
                    point.sync([final for _, final in present], [self.folder])
                except OSError as exc:
                    error = SendError(f"writing into {self.folder} failed: {exc}", retryable=True)
                    for i, tmp, _ in written:
                        results[i] = error
                        tmp.unlink(missing_ok=True)
                    for i, _ in present:
                        results[i] = error
        if later:
            for i, again in zip(later, self.send_many([messages[i] for i in later]), strict=True):
                results[i] = again
        return [r if r is not None else SendError("not sent", retryable=True) for r in results]

    def _write_temp(self, message: OutboundMessage) -> tuple[Path, Path] | SendResult:
        """Write one message under its fixed temp name (not yet synced): (temp, final), or the SendResult
        of an earlier send when the same bytes are already under the final name."""
        check_filename(message.filename)
        final = self.folder / message.filename
        try:
            if final.exists():
                if final.read_bytes() == message.payload:
                    return SendResult(str(final), len(message.payload), already_sent=True)
                raise SendError(f"{final} already exists with different content; not overwriting",
                                retryable=False, kind="send.name_taken")
            # A fixed temp name: a retry after a crash overwrites the leftover instead of leaving another one.
            tmp = self.folder / f".{message.filename}{self.temp_suffix}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError as exc:
            raise SendError(f"outbound folder {self.folder} does not exist", retryable=False,
                            kind="send.no_destination") from exc
        except PermissionError as exc:
            raise SendError(f"cannot write into {self.folder}: {exc}", retryable=False,
                            kind="send.permission_denied") from exc
        except OSError as exc:
            raise SendError(f"cannot write into {self.folder}: {exc}", retryable=True) from exc
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(message.payload)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SendError(f"writing {tmp} failed: {exc}", retryable=True) from exc
        return tmp, final


def _raise_or_return(outcome: SendResult | SendError) -> SendResult:
    """The SendResult, or raise the SendError."""
    if isinstance(outcome, SendError):
        raise outcome
    return outcome
