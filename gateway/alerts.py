"""Ops alerts by email: the retrying worker that turns the store's unsent alerts into digest mails.

Rules:
- An alert is recorded in the store first (``Store.add_alert``); this module only sends. Nothing is
  lost to an SMTP outage: a failed send marks the alerts ``failed`` with a retry time and they are
  picked up again when it comes.
- One mail per partner per digest window: a partner's alerts are held until the oldest has waited
  ``smtp.digest_seconds``, then all of that partner's due alerts go out as ONE plain-text digest
  (at most ``max_alerts_per_mail`` per mail). Alerts due for a retry go out at once. Alerts without
  a partner form the gateway's own digest.
- Recipients: the partner's ``alert_emails`` plus ``smtp.ops_emails``, deduplicated
  (case-insensitive), in that order. With none at all the alerts are recorded failed and retried:
  fixing the configuration and restarting sends them.
- Retries back off exponentially by the alerts' attempts (``retry_base_seconds`` * 2**attempts,
  capped at 15 minutes). A failure of the server (refused, timeout, TLS, login, dropped connection)
  fails the whole pass and holds new sends until the retry time, so the backlog goes out together
  once it is back; a message the server refuses on a live connection (recipients, data, SMTPUTF8)
  fails only that digest.
- ``send_due`` never raises for SMTP trouble: it logs one clear line and records the error on the
  alerts. Delivery is at least once: a crash (or a store error) between the SMTP server accepting a
  digest and ``mark_alert_sent`` sends that digest again on the next pass.
- Run one mailer per store: the store hands alerts out without leases, so two mailers on one ledger
  could both send the same digest.
- aiosmtplib is imported here only; its errors are turned into one-line descriptions at the boundary.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
import re
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

import aiosmtplib
from sqlalchemy import text

from gateway.config import SmtpSettings
from gateway.store import AlertRow, Store
from gateway.store.ids import new_id
from partners.profile import PartnerProfile

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

SUBJECT_PREFIX = "[EDI gateway]"
SUBJECT_MAX = 200  # characters of the mail subject
RETRY_CAP_SECONDS = 15 * 60.0
GATEWAY_GROUP = "gateway"  # how alerts without a partner are named in subjects and logs
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters other than tab and newline
_SPACE = re.compile(r"\s+")


MAILER_LOCK_KEY = 0x6564_6961_6C72  # PostgreSQL advisory lock id shared by all mailers of one ledger

class PartnerLookup(Protocol):
    """Finds a partner's profile by id: a ``dict[str, PartnerProfile]`` or a ``PartnerDirectory``."""

    def get(self, partner_id: str, /) -> PartnerProfile | None:
        """The profile with this id, or None."""
        ...


class AlertConfigError(Exception):
    """The SMTP settings cannot be used as they are (e.g. a credential variable is not set)."""


@dataclass(frozen=True, slots=True)
class Digest:
    """One mail to send: the alerts it carries, who gets it and the message itself."""

    digest_id: str
    group: str
    alerts: tuple[AlertRow, ...]
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def alert_ids(self) -> list[str]:
        """Ids of the alerts this digest carries."""
        return [a.id for a in self.alerts]


class AlertMailer:
    """Sends the store's due alerts as one digest mail per partner over SMTP, retrying on failure."""

    def __init__(self, store: Store, smtp: SmtpSettings,
                 partners: PartnerLookup | Iterable[PartnerProfile],
                 clock: Clock | None = None, *, tls_context: ssl.SSLContext | None = None,
                 retry_base_seconds: float = 30.0, max_alerts_per_mail: int = 200,
                 batch_limit: int = 2000) -> None:
        """``clock`` defaults to the store's clock; ``tls_context`` overrides the system trust store
        (e.g. a private CA) for ``security = "tls"`` or ``"starttls"``."""
        self.store = store
        self.smtp = smtp
        # a dict or a PartnerDirectory looks partners up itself; a plain list of profiles is indexed here
        self._partners: PartnerLookup = (partners if hasattr(partners, "get")  # type: ignore[assignment]
                                         else {p.id: p for p in partners})
        self._clock: Clock = clock or store.now
        self.tls_context = tls_context
        self.retry_base_seconds = retry_base_seconds
        self.max_alerts_per_mail = max(1, max_alerts_per_mail)
        self.batch_limit = batch_limit
        self._hold_until: dt.datetime | None = None  # after a server failure: no new tries before this

    # ------------------------------------------------------------------ the worker

    def send_due(self, *, flush: bool = False) -> int:
        """Send every digest that is due (``flush``: ignore the digest window); returns how many
        alerts were sent. Call it from a thread without a running event loop.

        Several gateway workers on one PostgreSQL store each run a mailer: a session advisory lock lets
        one of them send at a time, so the same alert is not mailed by two workers.
        """
        with self._exclusive() as mine:
            return self._send_due(flush) if mine else 0

    @contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """True while this mailer is the only one sending for this ledger (PostgreSQL advisory lock; for
        SQLite an flock on a file beside the database); False when another mailer holds it."""
        if self.store.backend == "postgresql":
            with self.store.engine.connect() as conn:
                got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": MAILER_LOCK_KEY}))
                conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MAILER_LOCK_KEY})
                        conn.commit()
            return
        database = self.store.engine.url.database or "gateway.db"
        fd = os.open(f"{database}.mailer.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _send_due(self, flush: bool) -> int:
        now = self._clock()
        if self._hold_until is not None and now < self._hold_until and not flush:
            return 0
        self._hold_until = None
        due = self._due_groups(self.store.pending_alerts(limit=self.batch_limit), now, flush)
        digests: list[Digest] = []
        sent = 0
        for partner_id, rows in due:
            group = partner_id or GATEWAY_GROUP
            recipients = self.recipients_for(partner_id)
            for start in range(0, len(rows), self.max_alerts_per_mail):
                chunk = rows[start:start + self.max_alerts_per_mail]
                if not recipients:
                    self._failed(chunk, group, "no recipients: set smtp.ops_emails or the partner's alert_emails", now)
                    continue
                try:
                    digests.append(self.build_digest(group, chunk, recipients, now))
                except Exception as exc:  # a bug here must not hold up the other partners' alerts
                    log.exception("alerts: cannot build the digest for %s", group)
                    self._failed(chunk, group, f"cannot build the digest: {type(exc).__name__}: {exc}", now)
        if digests:
            sent = asyncio.run(self._deliver(digests, now))
        return sent

    def run(self, stop: threading.Event, interval: float = 5.0) -> None:
        """Loop for the daemon: send due digests every ``interval`` seconds until ``stop`` is set."""
        log.info("alerts: mailer started (SMTP %s:%s, security %s)", self.smtp.host, self.smtp.port, self.smtp.security)
        last_error: str | None = None  # the same failure is logged once, not every interval
        while not stop.is_set():
            try:
                self.send_due()
            except Exception as exc:  # the store is down, or a bug: log it, keep the loop alive
                store_trouble = _is_store_trouble(exc)
                error = f"{type(exc).__name__}: {_first_line(str(exc)) if store_trouble else exc}"
                if error != last_error:
                    log.error("alerts: sending pass failed: %s", error, exc_info=not store_trouble)
                last_error = error
            else:
                if last_error is not None:
                    log.info("alerts: sending works again")
                last_error = None
            stop.wait(interval)
        log.info("alerts: mailer stopped")

    # ------------------------------------------------------------------ grouping and recipients

    def _due_groups(self, rows: Sequence[AlertRow], now: dt.datetime,
                    flush: bool) -> list[tuple[str | None, list[AlertRow]]]:
        """Group pending alerts per partner (None: the gateway's own) and keep the groups due now."""
        groups: dict[str | None, list[AlertRow]] = {}
        for row in rows:
            groups.setdefault(row.partner_id or None, []).append(row)
        window = dt.timedelta(seconds=max(0.0, self.smtp.digest_seconds))
        due = []
        for group, members in groups.items():
            retrying = any(a.state == "failed" for a in members)
            oldest = min(a.created_at for a in members)
            if flush or retrying or oldest + window <= now:
                due.append((group, members))
        return due

    def partner(self, partner_id: str | None) -> PartnerProfile | None:
        """The profile of this partner, or None (no partner, or not configured)."""
        return self._partners.get(partner_id) if partner_id else None

    def recipients_for(self, partner_id: str | None) -> list[str]:
        """Who gets this partner's alerts: its alert_emails then smtp.ops_emails, deduplicated."""
        profile = self.partner(partner_id)
        wanted = [*(profile.alert_emails if profile else []), *self.smtp.ops_emails]
        out: list[str] = []
        seen: set[str] = set()
        for raw in wanted:
            address = _address(raw)
            if address is None:
                log.warning("alerts: ignoring malformed alert address %r (partner %s)", raw, partner_id or "-")
                continue
            if address.lower() not in seen:
                seen.add(address.lower())
                out.append(address)
        return out

    # ------------------------------------------------------------------ the mail

    def build_digest(self, group: str, rows: Sequence[AlertRow], recipients: Sequence[str],
                     now: dt.datetime) -> Digest:
        """The plain-text digest mail for one partner's alerts (``group``: partner id or "gateway")."""
        digest_id = new_id()
        profile = self.partner(rows[0].partner_id)
        msg = EmailMessage()
        msg["Subject"] = self.subject(group, rows)
        msg["From"] = self.smtp.sender
        msg["To"] = ", ".join(recipients)
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = f"<{digest_id}@edi-gateway>"
        msg["X-EDI-Gateway-Digest"] = digest_id
        msg["X-EDI-Gateway-Partner"] = _one_line(group)
        msg.set_content(self.body(group, profile, rows, digest_id))
        return Digest(digest_id, group, tuple(rows), tuple(recipients), msg)

    @staticmethod
    def subject(group: str, rows: Sequence[AlertRow]) -> str:
        """``[EDI gateway] acme: 3 alerts — <first alert's subject> (+2 more)`` on one line."""
        first = _one_line(rows[0].subject)
        if len(rows) == 1:
            what = first + (f" (seen {rows[0].repeats} times)" if rows[0].repeats > 1 else "")
        else:
            what = f"{len(rows)} alerts — {first} (+{len(rows) - 1} more)"
        text = f"{SUBJECT_PREFIX} {_one_line(group)}: {what}"
        return text if len(text) <= SUBJECT_MAX else text[:SUBJECT_MAX - 1] + "…"

    @staticmethod
    def body(group: str, profile: PartnerProfile | None, rows: Sequence[AlertRow], digest_id: str) -> str:
        """The digest text: a header, then each alert's subject, how often it was seen, and its body."""
        if not rows[0].partner_id:
            who = "the gateway itself (no partner)"
        elif profile is None:
            who = f"partner {group} (not in the partner configuration)"
        else:
            who = f"partner {group}" + (f" ({profile.name})" if profile.name else "")
        first = min(a.created_at for a in rows)
        last = max(a.last_seen_at for a in rows)
        lines = [f"{_count(len(rows))} for {who}, raised between {_when(first)} and {_when(last)}.", ""]
        for n, alert in enumerate(rows, 1):
            seen = (f" — seen {alert.repeats} times (first {_when(alert.created_at)}, last {_when(alert.last_seen_at)})"
                    if alert.repeats > 1 else "")
            lines.append(f"{n}. {_one_line(alert.subject)}{seen}")
            lines.append(f"   kind: {_one_line(alert.kind)} · alert id: {alert.id}"
                         + (f" · earlier send attempts: {alert.attempts}" if alert.attempts else ""))
            lines.append("")
            lines.extend(f"   {line}".rstrip() for line in _CONTROL.sub("", alert.body).splitlines())
            lines.append("")
        lines.append("-- ")
        lines.append(f"EDI gateway alert digest {digest_id}. Each alert is also recorded in the gateway's ledger.")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ SMTP

    async def _deliver(self, digests: Sequence[Digest], now: dt.datetime) -> int:
        """Send the digests over one SMTP connection; record each outcome; returns alerts sent."""
        sent = 0
        pending = list(digests)
        client: aiosmtplib.SMTP | None = None
        try:
            username, password = self._credentials()
            client = aiosmtplib.SMTP(
                hostname=self.smtp.host, port=self.smtp.port, timeout=self.smtp.timeout_seconds,
                use_tls=self.smtp.security == "tls", start_tls=self.smtp.security == "starttls",
                tls_context=self.tls_context, username=username, password=password,
            )
            await client.connect()
            while pending:
                digest = pending[0]
                try:
                    errors, _ = await client.send_message(digest.message, sender=self.smtp.sender,
                                                          recipients=list(digest.recipients))
                except (aiosmtplib.SMTPException, ValueError) as exc:
                    if (isinstance(exc, aiosmtplib.SMTPTimeoutError) or not client.is_connected
                            or getattr(exc, "code", None) == 421):  # 421: the server is closing the channel
                        raise  # the server is gone: this digest and the rest fail together
                    pending.pop(0)  # this message was refused (recipients, size, SMTPUTF8 ...): only it fails
                    self._failed(digest.alerts, digest.group, self._describe(exc), now)
                    continue
                pending.pop(0)
                sent += self._sent(digest, refused=errors)
        except (AlertConfigError, aiosmtplib.SMTPException, OSError, ValueError) as exc:
            error = self._describe(exc)
            retry_at = self._retry_at(max((a.attempts for d in pending for a in d.alerts), default=0), now)
            for digest in pending:
                self._failed(digest.alerts, digest.group, error, now, retry_at=retry_at)
            if pending:
                self._hold_until = retry_at
        finally:
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
        return sent

    def _credentials(self) -> tuple[str | None, str | None]:
        """Username and password from the environment variables the settings name (or none)."""
        values: list[str | None] = []
        for key, env in (("username_env", self.smtp.username_env), ("password_env", self.smtp.password_env)):
            if env is None:
                values.append(None)
                continue
            value = os.environ.get(env)
            if value is None:
                raise AlertConfigError(f"smtp.{key} names environment variable {env}, which is not set")
            values.append(value)
        return values[0], values[1]

    def _describe(self, exc: BaseException) -> str:
        """One line saying what went wrong with the SMTP server, in words."""
        server = f"SMTP server {self.smtp.host}:{self.smtp.port}"
        connecting = isinstance(exc, aiosmtplib.SMTPConnectError) and not isinstance(exc, aiosmtplib.SMTPTimeoutError)
        if connecting and isinstance(exc.__cause__, OSError):
            exc = exc.__cause__  # aiosmtplib's wrapper repeats host and port; the cause says what happened
        detail = _one_line(str(exc)) or type(exc).__name__
        if isinstance(exc, AlertConfigError):
            return f"cannot send alerts: {exc}"
        if isinstance(exc, ssl.SSLError):
            reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or detail
            return f"TLS with {server} failed ({self.smtp.security}): {_one_line(str(reason))} [{detail}]"
        if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError):
            return f"{server} did not answer within {self.smtp.timeout_seconds:g}s"
        if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
            return f"{server} timed out after {self.smtp.timeout_seconds:g}s: {detail}"
        if connecting:
            return f"cannot connect to {server}: {detail}"
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            return f"{server} closed the connection: {detail}"
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return (f"{server} rejected our login ({exc.code} {_one_line(exc.message)}); "
                    "check smtp.username_env and smtp.password_env")
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            refused = "; ".join(f"{r.recipient}: {r.code} {_one_line(r.message)}" for r in exc.recipients)
            return f"{server} refused every recipient: {refused}"
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return f"{server} answered {exc.code} {_one_line(exc.message)}"
        if isinstance(exc, aiosmtplib.SMTPException):
            return f"SMTP error with {server}: {detail}"
        if isinstance(exc, ValueError):
            return f"the mail cannot be sent as it is: {detail}"
        return f"cannot talk to {server}: {type(exc).__name__}: {detail}"

    def _retry_at(self, attempts: int, now: dt.datetime) -> dt.datetime:
        """When to try again after ``attempts`` earlier failed attempts (exponential, capped)."""
        delay = min(self.retry_base_seconds * 2 ** min(attempts, 30), RETRY_CAP_SECONDS)
        return now + dt.timedelta(seconds=delay)

    # ------------------------------------------------------------------ bookkeeping

    def _sent(self, digest: Digest, refused: dict[str, aiosmtplib.SMTPResponse]) -> int:
        """Record a digest as sent; returns how many alerts it carried."""
        self.store.mark_alert_sent(digest.alert_ids, digest_id=digest.digest_id)
        log.info("alerts: sent digest %s for %s (%s) to %s", digest.digest_id, digest.group,
                 _count(len(digest.alerts)), ", ".join(digest.recipients))
        if refused:
            log.warning("alerts: digest %s was refused for %s", digest.digest_id,
                        "; ".join(f"{addr} ({r.code} {_one_line(r.message)})" for addr, r in refused.items()))
        return len(digest.alerts)

    def _failed(self, rows: Sequence[AlertRow], group: str, error: str, now: dt.datetime, *,
                retry_at: dt.datetime | None = None) -> None:
        """Record a failed attempt for these alerts and log it."""
        when = retry_at or self._retry_at(max((a.attempts for a in rows), default=0), now)
        self.store.mark_alert_failed([a.id for a in rows], error, when)
        log.warning("alerts: could not send %s for %s: %s; next try at %s", _count(len(rows)), group, error,
                    _when(when))


def _address(raw: str) -> str | None:
    """The bare address of an alert recipient, or None when it is not one."""
    if "\r" in raw or "\n" in raw:
        return None
    _, address = parseaddr(raw.strip())
    if not address or "@" not in address or _SPACE.search(address):
        return None
    return address


def _one_line(text: str) -> str:
    """Text with control characters dropped and every run of whitespace made one space."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()


def _first_line(text: str) -> str:
    """The first line of a (database driver's multi-line) error message."""
    return text.strip().splitlines()[0] if text.strip() else ""


def _count(n: int) -> str:
    """``1 alert``, ``3 alerts``."""
    return f"{n} alert" if n == 1 else f"{n} alerts"


def _when(moment: dt.datetime) -> str:
    """A timestamp for people: ``2024-03-01 12:00:00 UTC``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _is_store_trouble(exc: BaseException) -> bool:
    """True for database errors (logged without a traceback: the message says it all)."""
    return type(exc).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3", "gateway.store"))
