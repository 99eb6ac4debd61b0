"""The gateway's ASGI app (Starlette): the AS2 endpoint now; the ops API and dashboard mount beside it.

Rules:
- ``create_app(context)`` assembles route modules; each route module is a function returning
  Starlette routes for one concern (``as2_routes`` here). Handlers stay thin: read the request,
  hand it to a service running in the thread pool (store calls block), write its answer.
- Request bodies are read with a limit (the sending partner's ``max_body_bytes``): a declared
  Content-Length over it is refused before reading, a streamed body as soon as it passes it.
- Nothing a partner sends produces a traceback in the answer; unexpected errors become a 500
  with a one-line text, logged here.
- ``HttpServer`` serves the app with uvicorn in a background thread of the daemon. The listening
  socket is bound and the TLS files are loaded in the caller's thread, so an address in use or an
  unreadable certificate is an ``HttpServerError`` at start-up, not a dead thread found later.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.as2_service import As2Response, As2Service
from gateway.config import GatewayConfig, HttpSettings
from gateway.store import Store

log = logging.getLogger(__name__)


@dataclass
class HttpContext:
    """What the HTTP app serves from: configuration, store and the services built on them."""

    config: GatewayConfig
    store: Store
    as2: As2Service | None = None
    extra_routes: Sequence[BaseRoute] = field(default_factory=tuple)

    def as2_service(self) -> As2Service:
        """The AS2 service (built from config and store on first use)."""
        if self.as2 is None:
            self.as2 = As2Service(self.config, self.store)
        return self.as2


class BodyTooLarge(Exception):
    """The request body passed the limit while we read it."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole request body, or BodyTooLarge as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


def _to_response(answer: As2Response) -> Response:
    """Starlette response for a service answer."""
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


def as2_routes(context: HttpContext) -> list[BaseRoute]:
    """POST /as2 (and /as2/anything): AS2 messages and async MDNs from partners."""

    async def receive(request: Request) -> Response:
        service = context.as2_service()
        headers = dict(request.headers.items())
        limit = service.max_body_bytes(headers)
        declared = request.headers.get("content-length")
        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(int(declared))
            body = await read_body(request, limit)
        except BodyTooLarge as exc:
            size = exc.args[0] if declared is not None and declared.isdigit() else None
            answer = await run_in_threadpool(service.refuse_oversized, headers, size, limit)
            response = _to_response(answer)
            response.headers["Connection"] = "close"
            return response
        except ClientDisconnect:
            return PlainTextResponse("client went away", status_code=400)
        try:
            answer = await run_in_threadpool(service.handle, headers, body)
        except Exception:
            log.exception("AS2 request failed")
            return PlainTextResponse("internal error; please retry later", status_code=500)
        return _to_response(answer)

    async def describe(request: Request) -> Response:
        return PlainTextResponse("AS2 endpoint: POST AS2 messages and MDNs here.\n")

    return [
        Route("/as2", receive, methods=["POST"]),
        Route("/as2", describe, methods=["GET"]),
        Route("/as2/{rest:path}", receive, methods=["POST"]),
    ]


def _ping(store: Store) -> None:
    """One round trip to the ledger database."""
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


def health_routes(context: HttpContext) -> list[BaseRoute]:
    """GET /healthz: the process is up and the store answers."""

    async def health(request: Request) -> Response:
        try:
            await run_in_threadpool(_ping, context.store)
        except Exception as exc:
            return PlainTextResponse(f"store unavailable: {type(exc).__name__}", status_code=503)
        return PlainTextResponse("ok\n")

    return [Route("/healthz", health, methods=["GET"])]


def create_app(context: HttpContext) -> Starlette:
    """The gateway's ASGI application."""
    routes: list[BaseRoute] = [*health_routes(context), *as2_routes(context), *context.extra_routes]
    app = Starlette(routes=routes)
    app.state.context = context
    return app


class HttpServerError(Exception):
    """The HTTP server could not start (address in use, TLS files unusable); the message says which and why."""


class HttpServer:
    """An ASGI app served by uvicorn in a daemon thread on ``settings.host``/``port`` (TLS when configured)."""

    def __init__(self, app: Any, settings: HttpSettings, *, graceful_seconds: float = 10.0) -> None:
        self.settings = settings
        self.graceful_seconds = graceful_seconds
        self._config = uvicorn.Config(
            app, host=settings.host, port=settings.port, lifespan="off", log_config=None, access_log=False,
            timeout_graceful_shutdown=int(graceful_seconds),
            ssl_certfile=str(settings.tls_cert) if settings.tls_cert is not None else None,
            ssl_keyfile=str(settings.tls_key) if settings.tls_key is not None else None,
        )
        self._server = uvicorn.Server(self._config)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = settings.port

    @property
    def url(self) -> str:
        """The base URL the server answers on (http or https)."""
        scheme = "https" if self.settings.tls_cert is not None else "http"
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Bind, load TLS, start serving; HttpServerError when any of that fails."""
        s = self.settings
        if (s.tls_cert is None) != (s.tls_key is None):
            raise HttpServerError("[http] tls_cert and tls_key must be set together (both or neither)")
        try:
            self._config.load()  # reads the certificate and key now, in this thread
        except (OSError, ValueError) as exc:
            raise HttpServerError(f"[http] TLS certificate {s.tls_cert} / key {s.tls_key} cannot be used: {exc}") \
                from None
        try:
            family = socket.AF_INET6 if ":" in s.host else socket.AF_INET
            self._socket = socket.create_server((s.host, s.port), family=family, backlog=self._config.backlog)
        except OSError as exc:
            raise HttpServerError(f"[http] cannot listen on {s.host}:{s.port}: {exc.strerror or exc}") from None
        self.port = int(self._socket.getsockname()[1])
        sockets = [self._socket]
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets}, name="http",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise HttpServerError(f"[http] the server on {s.host}:{self.port} did not start (see the log)")
            time.sleep(0.01)
        log.info("HTTP server listening on %s", self.url)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting, let requests in flight finish (up to ``graceful_seconds``), close the socket."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                log.warning("HTTP server thread did not stop within %.0f s", timeout)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
