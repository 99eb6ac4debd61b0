"""The `gateway` command line: translate, schema, and the daemon and ops commands.

Exit codes: 0 all good, 1 something was rejected (or failed), 2 usage or configuration errors.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gateway.config import GatewayConfig
    from parsers.x12.stream import EnvelopeRules
    from partners.profile import PartnerProfile

# The canonical document kinds (the keys of parsers.canonical.all_models(), which tests hold equal),
# spelled out so that the command line starts without importing the models.
DOCUMENT_KINDS = ("functional_ack", "invoice", "purchase_order", "ship_notice")


def _load(config: Path | None, required: bool = False) -> GatewayConfig | None:
    """The configuration from ``config`` (default ./gateway.toml, if any); exits with 2 when it is invalid."""
    if config is None:
        default = Path("gateway.toml")
        if not default.exists():
            if required:
                raise click.UsageError("no configuration: pass --config FILE (or create gateway.toml)")
            return None
        config = default
    from gateway.config import ConfigError, load_config  # imported here: plain translate runs need no config

    try:
        return load_config(config)
    except ConfigError as exc:
        click.echo(f"configuration error:\n{exc}", err=True)
        sys.exit(2)


def _envelope_rules(profile: PartnerProfile | None) -> EnvelopeRules:
    """The envelope rules for ``profile`` (defaults without a partner, without importing the config module)."""
    if profile is None:
        from parsers.x12.stream import EnvelopeRules

        return EnvelopeRules()
    from gateway.config import envelope_rules

    return envelope_rules(profile)


@click.group()
@click.version_option(package_name="edi-partner-gateway")
def main() -> None:
    """EDI trading-partner gateway."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--partner", "partner_id", help="Partner id whose quirks and CSV mapping apply.")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
@click.option("--jobs", type=int, default=0, help="Worker processes for large X12 files (0: one per CPU).")
def translate(paths: tuple[Path, ...], partner_id: str | None, config: Path | None, jobs: int) -> None:
    """Translate EDI / XML / CSV files to canonical JSON, one line per document on stdout."""
    gc.disable()  # start-up: these imports make ~10^5 objects and no garbage, collecting during them is waste
    try:
        from gateway.translating import default_jobs, expand_paths, translate_path
    finally:
        gc.enable()

    cfg = _load(config, required=partner_id is not None)
    profile: PartnerProfile | None = None
    if partner_id is not None:
        assert cfg is not None
        try:
            profile = cfg.partner(partner_id)
        except KeyError:
            raise click.UsageError(f"no partner {partner_id!r} in {cfg.source_path}") from None
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(map(str, missing))}")
    rules = _envelope_rules(profile)
    csv_mapping = profile.csv if profile is not None else None
    jobs = jobs or default_jobs()
    out = sys.stdout
    rejected = 0
    for path in expand_paths(list(paths)):
        try:
            summary = translate_path(path, out, rules=rules, csv_mapping=csv_mapping, jobs=jobs)
        except OSError as exc:
            line = {"source": str(path), "kind": "unsupported", "status": "rejected", "document": None,
                    "issues": [{"severity": "error", "code": "file.unreadable", "message": f"cannot read: {exc}"}]}
            out.write(json.dumps(line) + "\n")
            rejected += 1
            continue
        rejected += summary.rejected
    out.flush()
    sys.exit(1 if rejected else 0)


@main.command()
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only this document kind.")
def schema(kind: str | None) -> None:
    """Print the JSON Schema of the canonical documents."""
    from parsers.canonical import all_models

    models = all_models()
    if kind:
        click.echo(json.dumps(models[kind].model_json_schema(), indent=2))
        return
    click.echo(json.dumps({k: m.model_json_schema() for k, m in models.items()}, indent=2))


def _gateway(config: Path | None, worker_id: str | None = None) -> Any:
    from gateway.app import Gateway

    cfg = _load(config, required=True)
    assert cfg is not None
    return Gateway(cfg, worker_id=worker_id)


@main.command()
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
@click.option("--log-level", default="INFO", show_default=True)
@click.option("--worker-id", help="This worker's id in the ledger (default: gateway.worker_id, else host:pid).")
@click.option("--single-process", is_flag=True,
              help="Process landed files in a thread of this process instead of a pipeline child process.")
def run(config: Path | None, log_level: str, worker_id: str | None, single_process: bool) -> None:
    """Run the daemon: watched folders, SFTP polls, pipeline, deliveries, alerts; stop with SIGTERM/SIGINT."""
    import logging
    import signal
    import threading

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger("gateway").info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from gateway.http import HttpServerError

    with _gateway(config, worker_id) as gw:
        try:
            gw.run(stop, pipeline_process=not single_process, log_level=log_level)
        except HttpServerError as exc:
            click.echo(f"cannot start the HTTP endpoint: {exc}", err=True)
            sys.exit(2)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--partner", "partner_id", help="Partner the files come from (default: from the ISA sender).")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
def ingest(paths: tuple[Path, ...], partner_id: str | None, config: Path | None) -> None:
    """Land files once, process them and send what they cause; prints a summary per file."""
    from rich.progress import Progress

    from gateway.translating import expand_paths

    files = list(expand_paths(list(paths)))
    failed = 0
    with _gateway(config) as gw:
        if partner_id is not None and gw.directory.get(partner_id) is None:
            raise click.UsageError(f"no partner {partner_id!r} in the configuration")
        with Progress(transient=True) as progress:
            task = progress.add_task("landing", total=len(files))
            for path in files:
                gw.land_path(path, partner_id)
                progress.advance(task)
            task2 = progress.add_task("processing", total=len(files))
            outcomes = []

            def on_file(o: Any) -> None:
                outcomes.append(o)
                progress.advance(task2)

            gw.drain(on_file=on_file)
        for o in outcomes:
            states = ", ".join(f"{k}={v}" for k, v in sorted(o.by_state.items()))
            click.echo(f"{o.file_id}  {o.partner_id or '-':<16} {o.state:<10} {states}"
                       + (f"  ({o.message})" if o.message else ""))
            failed += o.state in ("rejected", "failed", "dead") or bool(o.by_state.get("rejected"))
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(config: Path | None, as_json: bool) -> None:
    """Counts of files and documents by partner and state."""
    with _gateway(config) as gw:
        docs = gw.store.counts_by_partner_and_state("documents")
        files = gw.store.counts_by_partner_and_state("files")
    if as_json:
        click.echo(json.dumps({"documents": [{"partner": p, "state": s, "count": c} for p, s, c in docs],
                               "files": [{"partner": p, "state": s, "count": c} for p, s, c in files]}, indent=2))
        return
    click.echo("documents:")
    for p, s, c in docs:
        click.echo(f"  {p or '-':<20} {s:<14} {c}")
    click.echo("files:")
    for p, s, c in files:
        click.echo(f"  {p or '-':<20} {s:<14} {c}")


@main.command()
@click.argument("trace_id")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def trace(trace_id: str, config: Path | None, as_json: bool) -> None:
    """One file's or document's whole history: file, envelope, states, acks, outputs."""
    from gateway.tracing import trace_report

    with _gateway(config) as gw:
        report = trace_report(gw.store, trace_id)
    if report is None:
        click.echo(f"nothing known under id {trace_id}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    from gateway.tracing import format_trace

    click.echo(format_trace(report))


@main.command()
@click.argument("trace_id")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
@click.option("--reason", default="manual replay", show_default=True)
def replay(trace_id: str, config: Path | None, reason: str) -> None:
    """Re-run an archived file (or a document's file) through today's config, as a child of the original."""
    import uuid

    with _gateway(config) as gw:
        file_id = trace_id
        if gw.store.get_file(trace_id) is None:
            doc = gw.store.get_document(trace_id)
            if doc is None:
                click.echo(f"nothing known under id {trace_id}", err=True)
                sys.exit(1)
            file_id = doc.file_id
        receipt = gw.store.replay_file(file_id, f"replay:{file_id}:{uuid.uuid4()}", reason=reason)
        outcomes: list[Any] = []
        gw.drain(on_file=outcomes.append)
        click.echo(f"replayed {file_id} as {receipt.file_id}")
        for o in outcomes:
            click.echo(f"  {o.file_id} {o.state} {o.by_state}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--partner", "partner_id", required=True, help="Partner to send the documents to.")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
def send(path: Path, partner_id: str, config: Path | None) -> None:
    """Send our ship notices / invoices (canonical JSON, or CSV with the partner's mapping) to a partner as X12."""
    with _gateway(config) as gw:
        if gw.directory.get(partner_id) is None:
            raise click.UsageError(f"no partner {partner_id!r} in the configuration")
        result = gw.order_to_cash.flow.send_file(path, partner_id)
        if result.problem:
            click.echo(f"not sent: {result.problem}" + (f" (trace: gateway trace {result.file_id})"
                                                         if result.file_id else ""), err=True)
            sys.exit(1)
        gw.drain()
        for o in result.outcomes:
            doc = gw.store.get_document(o.document_id) if o.document_id else None
            if doc is not None:
                o.state = doc.state
            click.echo(o.line())
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option("--partner", "partner_id", help="Only this partner.")
@click.option("--overdue", is_flag=True, help="Only acknowledgments that are overdue.")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration file (default gateway.toml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def acks(partner_id: str | None, overdue: bool, config: Path | None, as_json: bool) -> None:
    """Acknowledgments we expect for what we sent, and their status (pending, accepted, rejected, overdue)."""
    from dataclasses import asdict

    with _gateway(config) as gw:
        views = gw.order_to_cash.reconciler.list_acks(partner_id=partner_id, overdue=overdue)
    if as_json:
        click.echo(json.dumps([asdict(v) for v in views], indent=2, default=str))
        return
    if not views:
        click.echo("no acknowledgments" + (" overdue" if overdue else " expected"))
    for v in views:
        click.echo(v.line())


if __name__ == "__main__":  # pragma: no cover
    main()
