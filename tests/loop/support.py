"""Helpers for the order-to-cash tests: a two-partner gateway on folder transports, the partners' own
X12 (written with our writers under THEIR identities), an aiosmtpd mailbox, and pyx12 as a second reader."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from gateway.app import Gateway
from gateway.config import GatewayConfig, GatewaySettings, SmtpSettings
from outbound.writers import X12Envelope, make_sscc, write_functional_ack, write_purchase_order, write_ship_notice
from parsers.canonical import (
    AckStatus,
    ElementNote,
    FunctionalAck,
    GroupAck,
    LineItem,
    OrderLevel,
    PackLevel,
    Party,
    ProductId,
    PurchaseOrder,
    SegmentNote,
    ShipNotice,
    ShippedItem,
    TransactionSetAck,
)
from parsers.translate import iter_interchanges
from partners.profile import AckPolicy, Delimiters, FolderTransport, PartnerProfile, Sink, X12Identity

RETAILER, RETAILER_ID = "acme", "ACMERETAIL"
THREEPL, THREEPL_ID = "swift", "SWIFT3PL"
OUR = X12Identity(qualifier="ZZ", id="EDIGATEWAY")
OPS = "ops@gateway.example"
START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


class FakeClock:
    """A clock the test moves by hand (timezone-aware)."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        """Move time forward (``hours=25``)."""
        self.current += dt.timedelta(**delta)


# --------------------------------------------------------------------------- gateway


@dataclass
class Loop:
    """A gateway with a retailer and a 3PL on folder transports, and where their files go."""

    root: Path
    cfg: GatewayConfig
    gw: Gateway
    clock: FakeClock

    def inbox(self, partner: str) -> Path:
        """The folder the partner drops files into (watched by the gateway)."""
        return self.root / "in" / partner

    def outbox(self, partner: str) -> Path:
        """The folder the gateway writes the partner's files to."""
        return self.root / "out" / partner

    @property
    def erp(self) -> Path:
        """The JSON folder sink of both partners."""
        return self.root / "erp"

    def drop(self, partner: str, name: str, data: bytes) -> None:
        """A partner drops a file: written whole, then picked up by the folder watcher and processed."""
        folder = self.inbox(partner)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        self.process()

    def process(self) -> None:
        """One round of the daemon's work: folders, pipeline, deliveries, the order-to-cash tick."""
        for watcher in self.gw.folder_watchers():
            watcher.scan_once()
        self.gw.drain()
        self.gw.order_to_cash.tick(wait_stable=False)
        self.gw.drain()

    def sent_files(self, partner: str, st01: str) -> list[Path]:
        """Interchanges the gateway wrote to the partner whose (first) set is ``st01``."""
        folder = self.outbox(partner)
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith(".") and read_sets(path.read_bytes())[0][0] == st01:
                found.append(path)
        return found


def partner_profiles(root: Path, *, invoice_on_ship: bool = True, hl_structure: str = "SOPI",
                     ack_hours: float = 24.0) -> list[PartnerProfile]:
    """The retailer (orders from us, gets ASNs + invoices) and the 3PL (ships for us)."""
    def folders(pid: str) -> dict[str, Any]:
        return {"inbound": [FolderTransport(path=root / "in" / pid, done_path=root / "done" / pid,
                                            stable_seconds=0.0)],
                "outbound": FolderTransport(path=root / "out" / pid),
                "sinks": [Sink(type="json_folder", path=root / "erp")]}

    return [
        PartnerProfile(id=RETAILER, name="ACME Retail", role="retailer", x12=X12Identity(id=RETAILER_ID),
                       hl_structure=hl_structure, invoice_on_ship=invoice_on_ship,  # type: ignore[arg-type]
                       alert_emails=["edi@acme.example"], acks=AckPolicy(expect_ack_within_hours=ack_hours),
                       erp_outbound_path=root / "erp_out" / RETAILER, **folders(RETAILER)),
        PartnerProfile(id=THREEPL, name="Swift Logistics", role="3pl", x12=X12Identity(id=THREEPL_ID),
                       **folders(THREEPL)),
    ]


def make_loop(root: Path, clock: FakeClock, store_url: str | None = None, *, smtp_port: int = 25,
              **profile_args: Any) -> Loop:
    """A gateway (in-process, SQLite unless ``store_url``) with the two partners."""
    cfg = GatewayConfig(gateway=GatewaySettings(data_dir=root / "var", store_url=store_url, poll_seconds=0.05),
                        identity=OUR, smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, ops_emails=[OPS],
                                                        digest_seconds=0),
                        partners=partner_profiles(root, **profile_args))
    return Loop(root, cfg, Gateway(cfg, worker_id="test-worker", clock=clock), clock)


# --------------------------------------------------------------------------- the partners' documents


def their_envelope(sender_id: str, isa13: int, when: dt.datetime = START) -> X12Envelope:
    """An envelope from a partner to us (what their translator would write)."""
    return X12Envelope(sender=X12Identity(id=sender_id), receiver=OUR, version="004010", delimiters=Delimiters(),
                       isa13=isa13, gs06=isa13, date=when.date(), time=when.time().replace(second=0, microsecond=0))


def purchase_order(po_number: str = "PO-4711") -> PurchaseOrder:
    """The retailer's order: two lines with prices, ship-to and bill-to."""
    return PurchaseOrder(
        po_number=po_number, purpose_code="00", order_type="SA", order_date=dt.date(2026, 3, 1), currency="USD",
        parties=[Party(role="ST", name="ACME DC 12", id_qualifier="92", id="DC12"),
                 Party(role="BT", name="ACME Retail Inc", id_qualifier="92", id="HQ")],
        lines=[LineItem(line_number="1", quantity=Decimal(10), unit_of_measure="EA", unit_price=Decimal("4.25"),
                        price_basis="PE", product_ids=[ProductId(qualifier="UP", value="012345678905"),
                                                       ProductId(qualifier="VN", value="WIDGET-1")]),
               LineItem(line_number="2", quantity=Decimal(5), unit_of_measure="EA", unit_price=Decimal("19.99"),
                        price_basis="PE", product_ids=[ProductId(qualifier="UP", value="012345678912")])])


def po_interchange(po_number: str = "PO-4711", isa13: int = 101) -> bytes:
    """The retailer's 850 as they would send it."""
    return write_purchase_order(purchase_order(po_number), their_envelope(RETAILER_ID, isa13))


def ship_notice(po_number: str = "PO-4711", shipment_id: str = "SH-9001") -> ShipNotice:
    """The 3PL's ship notice for the order: a pallet with two cartons (S/O/T/P/I), items by UPC."""
    cartons = [
        PackLevel(hl_code="P", sscc=make_sscc(0, "0012345", n), items=[item])
        for n, item in enumerate([
            ShippedItem(product_ids=[ProductId(qualifier="UP", value="012345678905")], quantity_shipped=Decimal(10),
                        unit_of_measure="EA"),
            ShippedItem(line_number="2", product_ids=[ProductId(qualifier="UP", value="012345678912")],
                        quantity_shipped=Decimal(3), unit_of_measure="EA"),
        ], 1)
    ]
    pallet = PackLevel(hl_code="T", sscc=make_sscc(0, "0012345", 99), packs=cartons)
    return ShipNotice(shipment_id=shipment_id, purpose_code="00", notice_date=dt.date(2026, 3, 2),
                      ship_date=dt.date(2026, 3, 2), structure_code="0002",
                      parties=[Party(role="ST", name="ACME DC 12", id_qualifier="92", id="DC12"),
                               Party(role="SF", name="Swift Logistics", id_qualifier="92", id="SW1")],
                      gross_weight=Decimal("120.5"), weight_unit="LB", packaging_code="PLT", lading_quantity=Decimal(1),
                      orders=[OrderLevel(po_number=po_number, packs=[pallet])])


def asn_interchange(po_number: str = "PO-4711", isa13: int = 501, shipment_id: str = "SH-9001") -> bytes:
    """The 3PL's 856 as they would send it."""
    return write_ship_notice(ship_notice(po_number, shipment_id), their_envelope(THREEPL_ID, isa13),
                             structure="SOTPI")


def read_sets(data: bytes) -> list[tuple[str, str, str, str, Any]]:
    """(ST01, ISA13, GS06, ST02, canonical document) of every transaction set in an interchange, with our reader."""
    found = []
    for ich in iter_interchanges(data):
        assert not ich.file_problems, ich.file_problems
        assert ich.start is not None and ich.end is not None
        for ts, result, _grp in ich.all_sets():
            errors = [i.message for i in result.issues if i.is_error]
            assert not errors, errors
            assert ts.group is not None
            found.append((ts.id, ich.start.control_number, ts.group.control_number, ts.control_number,
                          result.document))
    return found


def retailer_997(acknowledged: list[tuple[str, str, str]], *, isa13: int, reject: SegmentNote | None = None,
                 version: str = "004010") -> bytes:
    """The retailer's 997 for our sets [(GS01, GS06, ST02)] — accepted, or the first one rejected with ``reject``."""
    groups = []
    for n, (gs01, gs06, st02) in enumerate(acknowledged):
        rejected = reject is not None and n == 0
        st01 = {"SH": "856", "IN": "810"}[gs01]
        tx = TransactionSetAck(transaction_set_id=st01, control_number=st02,
                               status=AckStatus.REJECTED if rejected else AckStatus.ACCEPTED,
                               error_codes=["5"] if rejected else [], segments=[reject] if rejected and reject else [])
        groups.append(GroupAck(functional_id_code=gs01, group_control_number=gs06,
                               status=AckStatus.REJECTED if rejected else AckStatus.ACCEPTED,
                               sets_included=1, sets_received=1, sets_accepted=0 if rejected else 1,
                               transaction_sets=[tx]))
    ack = FunctionalAck(ack_type="997", groups=groups)
    return write_functional_ack(ack, their_envelope(RETAILER_ID, isa13), list(range(1, len(groups) + 1)))


N102_MISSING = SegmentNote(segment_id="N1", position=5, loop_id="N1", error_code="8",
                           elements=[ElementNote(position=2, reference_number="93", error_code="1")])


# --------------------------------------------------------------------------- SMTP


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the test SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd handler: keep the parsed message."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def texts(self) -> list[tuple[str, str]]:
        """(subject, plain-text body) of every mail."""
        out = []
        with self.lock:
            for m in self.messages:
                body = m.get_body(("plain",))
                out.append((str(m["Subject"]), str(body.get_content()) if body is not None else ""))  # type: ignore[attr-defined]
        return out


def start_smtp(port: int, mailbox: Mailbox) -> Controller:
    """An aiosmtpd server on 127.0.0.1:port."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller
