"""Helpers for the pipeline tests: a gateway.toml builder, 850 interchanges written by our own writer,
reading back the 997/999s and sink documents the gateway produced, and pyx12 as an independent validator.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inbox.base import RawDocument
from outbound.writers import X12Envelope, purchase_order_segments, write_interchange
from parsers.canonical import FunctionalAck, LineItem, ProductId, PurchaseOrder
from parsers.x12 import InterchangeStart, TransactionSet, iter_x12, read_transaction_set
from partners.profile import Delimiters, X12Identity

if TYPE_CHECKING:
    from gateway.app import Gateway

RETAILER = "acme-retail"
RETAILER_ID = "ACMERETAIL"
THREEPL = "swift-3pl"
THREEPL_ID = "SWIFT3PL"
OUR_ID = "EDIGATEWAY"
DATE = dt.date(2026, 11, 27)


# --------------------------------------------------------------------------- configuration


@dataclass
class GatewayLayout:
    """Where a test gateway keeps its folders, and the config file that names them."""

    root: Path
    config: Path
    store_url: str

    def inbox(self, partner: str = RETAILER) -> Path:
        """The watched inbound folder of a partner."""
        return self.root / "inbox" / partner

    def done(self, partner: str = RETAILER) -> Path:
        """Where processed inbound files of a partner go."""
        return self.root / "done" / partner

    def outbox(self, partner: str = RETAILER) -> Path:
        """Our outbound folder for a partner (acks land here)."""
        return self.root / "outbox" / partner

    @property
    def erp(self) -> Path:
        """The JSON folder sink."""
        return self.root / "erp"

    @property
    def data_dir(self) -> Path:
        """Archive and SQLite ledger."""
        return self.root / "var"


def _toml_value(value: Any) -> str:
    """A Python value as TOML (enough for the configs these tests write)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _table(name: str, values: dict[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    return lines


def write_gateway_config(root: Path, store_url: str, *, gateway: dict[str, Any] | None = None,
                         retailer: dict[str, Any] | None = None, threepl: dict[str, Any] | None = None,
                         done_path: bool = True, stable_seconds: float = 0.2) -> GatewayLayout:
    """Write ``root/gateway.toml``: a retailer (folder in/out + JSON folder sink) and a 3PL, on ``store_url``.

    ``gateway``, ``retailer`` and ``threepl`` override keys of those tables (a value of None drops the key).
    """
    root.mkdir(parents=True, exist_ok=True)
    layout = GatewayLayout(root, root / "gateway.toml", store_url)
    settings: dict[str, Any] = {"data_dir": "var", "store_url": store_url, "poll_seconds": 0.05,
                                "retry_base_seconds": 0.2, "lease_seconds": 2.0, "max_attempts": 6}
    settings.update(gateway or {})

    def partner(pid: str, x12_id: str, role: str, over: dict[str, Any] | None) -> dict[str, Any]:
        inbound: dict[str, Any] = {"type": "folder", "path": str(layout.inbox(pid)),
                                   "stable_seconds": stable_seconds}
        if done_path:
            inbound["done_path"] = str(layout.done(pid))
        table: dict[str, Any] = {"id": pid, "name": pid.upper(), "role": role,
                                 "x12": {"qualifier": "ZZ", "id": x12_id},
                                 "inbound": [inbound], "outbound": {"type": "folder", "path": str(layout.outbox(pid))},
                                 "sinks": [{"type": "json_folder", "path": str(layout.erp)}]}
        table.update(over or {})
        return {k: v for k, v in table.items() if v is not None}

    lines = _table("gateway", {k: v for k, v in settings.items() if v is not None})
    lines += ["", *_table("identity", {"qualifier": "ZZ", "id": OUR_ID}), ""]
    lines += ["[defaults]", 'version = "004010"', "[defaults.acks]", 'functional_ack = "997"',
              'ta1 = "requested"', "[defaults.dedup]", "window_days = 90", ""]
    for pid, x12_id, role, over in ((RETAILER, RETAILER_ID, "retailer", retailer),
                                   (THREEPL, THREEPL_ID, "3pl", threepl)):
        lines.append("[[partners]]")
        for key, value in partner(pid, x12_id, role, over).items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    layout.config.write_text("\n".join(lines) + "\n")
    return layout


# --------------------------------------------------------------------------- inbound 850s


def purchase_order(po_number: str, *, purpose: str = "00", quantity: int = 24, lines: int = 1) -> PurchaseOrder:
    """A small valid purchase order."""
    return PurchaseOrder(
        po_number=po_number, purpose_code=purpose, order_type="SA", order_date=DATE,
        lines=[LineItem(line_number=str(n), quantity=Decimal(quantity + n - 1), unit_of_measure="EA",
                        unit_price=Decimal("12.50"),
                        product_ids=[ProductId(qualifier="UP", value=f"0123456789{n:02d}")])
               for n in range(1, lines + 1)])


def envelope(isa13: int, gs06: int, *, sender: str = RETAILER_ID, version: str = "004010",
             ack_requested: str = "0") -> X12Envelope:
    """The envelope a partner writes to us."""
    return X12Envelope(sender=X12Identity(qualifier="ZZ", id=sender), receiver=X12Identity(qualifier="ZZ", id=OUR_ID),
                       version=version, delimiters=Delimiters(component=">"), isa13=isa13, gs06=gs06, date=DATE,
                       time=dt.time(9, 30), ack_requested=ack_requested)  # type: ignore[arg-type]


def interchange_850(isa13: int, groups: Sequence[Sequence[PurchaseOrder]], *, gs06: int | None = None,
                    sender: str = RETAILER_ID, version: str = "004010") -> bytes:
    """One interchange with a GS*PO group per entry of ``groups`` (GS06 = gs06, gs06+1, ...)."""
    env = envelope(isa13, gs06 if gs06 is not None else isa13, sender=sender, version=version)
    sets = [[purchase_order_segments(po, date=DATE) for po in group] for group in groups]
    count = sum(len(g) for g in groups)
    return write_interchange(env, [("PO", s) for s in sets], list(range(1, count + 1)))


@dataclass
class Batch:
    """Generated inbound files and what the gateway must make of them."""

    files: dict[str, bytes] = field(default_factory=dict)
    po_numbers: set[str] = field(default_factory=set)
    group_numbers: set[str] = field(default_factory=set)  # GS06 of every inbound group


def make_batch(count: int, *, two_groups_every: int = 10) -> Batch:
    """``count`` files, each its own ISA13, GS06s and PO numbers; every n-th file carries two groups."""
    batch = Batch()
    for i in range(count):
        isa13 = 100_000 + i
        gs06 = 10 * i + 1
        groups = [[purchase_order(f"PO{i:06d}A")]]
        if two_groups_every and i % two_groups_every == 0:
            groups.append([purchase_order(f"PO{i:06d}B"), purchase_order(f"PO{i:06d}C", lines=2)])
        batch.files[f"acme_850_{i:05d}.x12"] = interchange_850(isa13, groups, gs06=gs06)
        batch.po_numbers.update(po.po_number for g in groups for po in g)
        batch.group_numbers.update(str(gs06 + n) for n in range(len(groups)))
    return batch


def drop(folder: Path, name: str, data: bytes) -> Path:
    """Deliver a file as partners do: write a temp name, then rename it into the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    target = folder / name
    os.replace(tmp, target)
    return target


# --------------------------------------------------------------------------- reading what came out


@dataclass
class AckFile:
    """One acknowledgment interchange we wrote."""

    path: Path
    isa13: str
    receiver: str
    acks: list[FunctionalAck]
    issues: list[str]


def temp_files(folder: Path) -> list[str]:
    """Names in a folder that a partner collecting from it would skip as unfinished (dot-files, *.part ...)."""
    from inbox.sources.folder import is_temp_name

    return sorted(p.name for p in folder.iterdir() if is_temp_name(p.name)) if folder.is_dir() else []


def read_ack_files(folder: Path) -> list[AckFile]:
    """Parse every finished file in an outbound folder with our own X12 reader (temp names are skipped)."""
    out: list[AckFile] = []
    skip = set(temp_files(folder))
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name not in skip) if folder.is_dir() else []:
        isa: InterchangeStart | None = None
        acks: list[FunctionalAck] = []
        issues: list[str] = []
        for ev in iter_x12(path.read_bytes()):
            if isinstance(ev, InterchangeStart):
                isa = ev
                issues += [i.message for i in ev.issues if i.is_error]
            elif isinstance(ev, TransactionSet):
                result = read_transaction_set(ev)
                issues += [i.message for i in result.issues if i.is_error]
                if isinstance(result.document, FunctionalAck):
                    acks.append(result.document)
        out.append(AckFile(path, isa.control_number if isa else "", isa.receiver_id if isa else "", acks, issues))
    return out


def acknowledged_groups(ack_files: Iterable[AckFile]) -> list[str]:
    """AK102 of every AK1 in the given acks (a group acknowledged twice appears twice)."""
    return [g.group_control_number for f in ack_files for a in f.acks for g in a.groups]


def sink_documents(folder: Path) -> list[dict[str, Any]]:
    """Every JSON document in the sink folder (temp files are a failure: they must never stay behind)."""
    if not folder.is_dir():
        return []
    leftovers = [p.name for p in folder.iterdir() if not p.name.endswith(".json") or p.name.startswith(".")]
    assert not leftovers, f"temp or stray files in the sink: {leftovers[:5]}"
    return [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``condition`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def land_bytes(gw: Gateway, name: str, data: bytes, partner: str = RETAILER) -> str:
    """Land bytes as a partner's file arriving through the API (a new transport id per name); its file id."""
    receipt = gw.store.land(RawDocument("api", f"test:{name}", name, gw.store.now(), body=data, partner_hint=partner))
    return receipt.file_id


def ingest(gw: Gateway, name: str, data: bytes) -> str:
    """``land_bytes`` from the retailer, then process and send everything; the file id."""
    file_id = land_bytes(gw, name, data)
    gw.drain()
    return file_id
