"""The composition root: one object that wires config, store, pipeline, delivery and sources together."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.as2_service import As2MdnWorker, As2Service, CertificateWatch, needs_endpoint, uses_as2
from gateway.config import GatewayConfig
from gateway.delivery import DeliveryWorker, default_sender_for
from gateway.pipeline import FileOutcome, Pipeline
from gateway.routing import OrderToCash
from gateway.store import Store
from inbox.base import LandingReceipt, RawDocument
from inbox.sources.folder import FolderWatcher
from partners.directory import PartnerDirectory
from partners.profile import FolderTransport, SftpTransport

if TYPE_CHECKING:
    from gateway.http import HttpServer

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """host:pid, unique per running gateway process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Gateway:
    """A running gateway worker: the store plus everything that reads from and writes to it."""

    def __init__(self, cfg: GatewayConfig, *, worker_id: str | None = None,
                 clock: Callable[[], dt.datetime] | None = None, migrate: bool = True) -> None:
        self.cfg = cfg
        self.worker_id = worker_id or cfg.gateway.worker_id or default_worker_id()
        data_dir = cfg.gateway.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"migrate": migrate}
        if clock is not None:
            kwargs["clock"] = clock
        self.store = Store.open(cfg.gateway.resolved_store_url(), data_dir / "archive", **kwargs)
        self.directory = PartnerDirectory(cfg.partners)
        self.pipeline = Pipeline(cfg, self.store, worker_id=self.worker_id, directory=self.directory)
        # AS2: one service receives messages and MDNs (HTTP) and tracks the async MDNs our sends expect
        self.as2 = As2Service(cfg, self.store, directory=self.directory, worker_id=self.worker_id) \
            if uses_as2(cfg) else None
        self.delivery = DeliveryWorker(cfg, self.store, worker_id=self.worker_id, directory=self.directory,
                                       sender_for=self.as2.sender_for if self.as2 else default_sender_for)
        # outbound ASNs/invoices, 3PL -> retailer routing, ack reconciliation, overdue acks
        self.order_to_cash = OrderToCash(cfg, self.store, self.directory, worker_id=self.worker_id,
                                         on_accepted=self.pipeline.on_accepted, on_sent=self.delivery.on_sent)

    def close(self) -> None:
        """Release connections."""
        self.delivery.close()
        if self.as2 is not None:
            self.as2.close()
        self.store.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sources

    def folder_watchers(self) -> list[FolderWatcher]:
        """One watcher per inbound folder transport of every partner."""
        watchers = []
        for partner in self.cfg.partners:
            for transport in partner.inbound:
                if isinstance(transport, FolderTransport):
                    watchers.append(FolderWatcher(transport.path, self.store, partner_id=partner.id,
                                                  done_path=transport.done_path, patterns=transport.patterns,
                                                  stable_seconds=transport.stable_seconds, alerter=self.store))
        return watchers

    def sftp_pollers(self) -> list[Any]:
        """One SFTP poller per inbound SFTP transport."""
        from inbox.sources.sftp import SftpPoller

        pollers = []
        spool = self.cfg.gateway.data_dir / "spool" / "sftp"
        spool.mkdir(parents=True, exist_ok=True)
        for partner in self.cfg.partners:
            for transport in partner.inbound:
                if isinstance(transport, SftpTransport):
                    pollers.append(SftpPoller(partner, transport, self.store, self.store, spool))
        return pollers

    # ------------------------------------------------------------------ one-shot work

    def land_path(self, path: Path, partner_id: str | None) -> LandingReceipt:
        """Land a local file as the CLI does (`gateway ingest`)."""
        st = path.stat()
        raw = RawDocument(transport="cli", transport_id=f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}",
                          filename=path.name, received_at=dt.datetime.now(dt.UTC), body_path=path,
                          partner_hint=partner_id)
        return self.store.land(raw)

    def drain(self, *, max_rounds: int = 1000, on_file: Callable[[FileOutcome], None] | None = None) -> int:
        """Process landed files and send queued messages until nothing is left; returns files processed."""
        total = 0
        for _ in range(max_rounds):
            outcomes = self.pipeline.process_batch()
            for o in outcomes:
                if on_file is not None:
                    on_file(o)
            total += len(outcomes)
            sent = self.delivery.run_once()
            if not outcomes and not sent:
                break
        return total

    # ------------------------------------------------------------------ daemon

    def run(self, stop: threading.Event, *, with_sftp: bool = True, pipeline_process: bool = False,
            log_level: str = "INFO") -> None:
        """Run every loop in its own thread until ``stop`` is set, then stop them cleanly.

        With ``pipeline_process`` (`gateway run`), landed files are processed by a child process
        (``gateway.pipeline_worker``) instead of a thread; it needs the configuration's file.
        """
        threads: list[threading.Thread] = []
        http = self.http_server()
        if http is not None:
            http.start()  # first: an address in use or bad TLS files stop start-up with HttpServerError

        def spawn(name: str, target: Callable[[], None]) -> None:
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            threads.append(t)

        child = None
        poll_group = None
        try:
            for watcher in self.folder_watchers():
                spawn(f"folder:{watcher.folder}", lambda w=watcher: w.run(stop))  # type: ignore[misc]
            if pipeline_process and self.cfg.source_path is not None:
                from gateway import pipeline_worker

                child = pipeline_worker.spawn(self.cfg.source_path, f"{self.worker_id}/pipeline", log_level)
                spawn("pipeline-process", lambda: self._watch_pipeline_process(stop, child))
            else:
                spawn("pipeline", lambda: self.pipeline_loop(stop))
            spawn("delivery", lambda: self.delivery.run(stop, self.cfg.gateway.poll_seconds))
            for name, loop in self._extra_loops():
                spawn(name, lambda loop=loop: loop(stop))  # type: ignore[misc]
            if with_sftp:
                pollers = self.sftp_pollers()
                if pollers:
                    from inbox.sources.sftp import SftpPollGroup

                    poll_group = SftpPollGroup(pollers)
                    poll_group.start()
            log.info("gateway %s running: %d thread(s)", self.worker_id, len(threads))
            stop.wait()
        finally:  # also when start-up fails half-way: nothing we started is left running
            stop.set()
            if http is not None:
                http.stop()  # stop taking AS2 messages before the loops that process them stop
            if poll_group is not None:
                poll_group.stop(timeout=30)
            if child is not None:
                from gateway import pipeline_worker

                pipeline_worker.stop(child)
            for t in threads:
                t.join(timeout=30)

    def _watch_pipeline_process(self, stop: threading.Event, child: Any) -> None:
        """If the pipeline process dies while we run, say so and take over its work in this thread."""
        while not stop.wait(1.0):
            code = child.poll()
            if code is not None:
                log.error("the pipeline process exited with %s; processing files in this process instead", code)
                self.pipeline_loop(stop)
                return

    def pipeline_loop(self, stop: threading.Event) -> None:
        """Process landed files until ``stop`` is set (a thread of the daemon, or the pipeline process)."""
        while not stop.is_set():
            try:
                outcomes = self.pipeline.process_batch()
            except Exception:
                log.exception("pipeline loop failed")
                outcomes = []
            if not outcomes:
                stop.wait(self.cfg.gateway.poll_seconds)

    def http_server(self) -> HttpServer | None:
        """The HTTP server (AS2 endpoint, health) when ``[http] enabled``; warns when AS2 partners need it."""
        if not self.cfg.http.enabled:
            if needs_endpoint(self.cfg):
                log.warning("[http] is not enabled: AS2 messages and async MDNs from %s cannot reach us",
                            ", ".join(needs_endpoint(self.cfg)))
            return None
        from gateway.http import HttpContext, HttpServer, create_app

        return HttpServer(create_app(HttpContext(self.cfg, self.store, self.as2)), self.cfg.http)

    def _extra_loops(self) -> list[tuple[str, Callable[[threading.Event], None]]]:
        """Loops contributed by optional parts (alerts, reconciliation, HTTP) when they are present."""
        loops: list[tuple[str, Callable[[threading.Event], None]]] = []
        try:
            from gateway.alerts import AlertMailer
        except ImportError:
            AlertMailer = None  # type: ignore[assignment,misc]
        if AlertMailer is not None and (self.cfg.smtp.ops_emails or any(p.alert_emails for p in self.cfg.partners)):
            mailer = AlertMailer(self.store, self.cfg.smtp, self.directory)
            loops.append(("alerts", lambda stop: mailer.run(stop, 2.0)))
        if self.as2 is not None:
            loops.append(("as2-mdn", As2MdnWorker(self.as2, self.cfg.gateway.poll_seconds).run))
            loops.append(("as2-certs", CertificateWatch(self.cfg, self.store).run))
        loops.append(("order-to-cash", lambda stop: self.order_to_cash.run(stop, self.cfg.gateway.poll_seconds)))
        return loops
