"""Transaction set structures: which segments and loops may follow which, how often, and which are mandatory.

Rules:
- A structure is a tree: ``seg(id, req, max)`` leaves and ``loop(id, req, max, *children)`` nodes whose
  first child is the loop's trigger segment (the segment that opens each repetition).
- Segments must come in the order of the tree (X12 position order). A segment found later than
  expected in the same loop is "not in proper sequence" (AK304 code 7); a mandatory segment or loop
  that never came is "mandatory segment missing" (3); too many repetitions are codes 5 (segment)
  and 4 (loop).
- ``TOLERATED`` lists, per transaction set, X12 segments outside our structure that partners add
  harmlessly (notes, messages): a warning (code 2) rather than a rejection.
- 004010 structures serve 003xxx/004xxx versions (VICS and UCS are subsets); 005010 differs for 850
  (CTT optional) and has the 999.
"""

from __future__ import annotations

from dataclasses import dataclass

UNBOUNDED = 1 << 30


@dataclass(frozen=True, slots=True)
class Node:
    """A segment (children empty) or a loop (children: trigger first) in a transaction set structure."""

    id: str
    req: str
    max: int
    children: tuple[Node, ...] = ()

    @property
    def is_loop(self) -> bool:
        """True for a loop."""
        return bool(self.children)

    @property
    def trigger(self) -> str:
        """The segment id that opens this node (itself for a segment, the first child for a loop)."""
        return self.children[0].trigger if self.children else self.id


def seg(sid: str, req: str = "O", mx: int = UNBOUNDED) -> Node:
    """A segment in a structure."""
    return Node(sid, req, mx)


def loop(lid: str, req: str, mx: int, *children: Node) -> Node:
    """A loop in a structure; ``children[0]`` is its trigger segment (mandatory within the loop)."""
    first = children[0]
    return Node(lid, req, mx, (Node(first.id, "M", first.max, first.children), *children[1:]))


def _n1_loop(mx: int, *extra: Node) -> Node:
    return loop("N1", "O", mx, seg("N1", "M", 1), seg("N2", "O", 2), seg("N3", "O", 2), seg("N4"), seg("NX2"),
                seg("REF", "O", 12), seg("PER"), seg("SI"), seg("FOB", "O", 1), seg("TD1", "O", 2), seg("TD5", "O", 12),
                seg("TD3", "O", 12), seg("TD4", "O", 5), seg("PKG", "O", 200), *extra)


def _sac_loop(*extra: Node) -> Node:
    return loop("SAC", "O", 25, seg("SAC", "M", 1), seg("CUR", "O", 1), *extra)


def _po850(ctt_req: str) -> Node:
    return loop(
        "850", "M", 1,
        seg("ST", "M", 1), seg("BEG", "M", 1), seg("CUR", "O", 1), seg("REF"), seg("PER", "O", 3), seg("TAX"),
        seg("FOB"), seg("CTP"), seg("PAM", "O", 10), seg("CSH", "O", 5), seg("TC2"), _sac_loop(), seg("ITD"),
        seg("DIS", "O", 20), seg("INC", "O", 1), seg("DTM", "O", 10), seg("LDT", "O", 12), seg("LIN", "O", 5),
        seg("SI"), loop("PID", "O", 200, seg("PID", "M", 1), seg("MEA")), seg("MEA", "O", 40), seg("PWK", "O", 25),
        seg("PKG", "O", 200), seg("TD1", "O", 2), seg("TD5", "O", 12), seg("TD3", "O", 12), seg("TD4", "O", 5),
        seg("MAN", "O", 10), seg("PCT"), seg("CTB", "O", 5), seg("TXI"),
        loop("AMT", "O", UNBOUNDED, seg("AMT", "M", 1), seg("REF"), seg("DTM", "O", 1), seg("PCT")),
        loop("N9", "O", 1000, seg("N9", "M", 1), seg("DTM", "O", 10), seg("MSG", "O", 1000), seg("MTX")),
        _n1_loop(200),
        loop("LM", "O", 1000, seg("LM", "M", 1), seg("LQ")),
        loop("SPI", "O", 25, seg("SPI", "M", 1), seg("REF"), seg("DTM"), seg("MSG")),
        loop("ADV", "O", UNBOUNDED, seg("ADV", "M", 1), seg("DTM"), seg("MTX")),
        loop("PO1", "M", 100000,
             seg("PO1", "M", 1), seg("LIN"), seg("SI"), seg("CUR", "O", 1), seg("CN1", "O", 1), seg("PO3", "O", 25),
             loop("CTP", "O", UNBOUNDED, seg("CTP", "M", 1), seg("CUR", "O", 1)), seg("PAM", "O", 10),
             seg("MEA", "O", 40), loop("PID", "O", 1000, seg("PID", "M", 1), seg("MEA")), seg("PWK", "O", 25),
             seg("PO4"), seg("REF"), seg("PER", "O", 3), _sac_loop(seg("CTP", "O", 1)), seg("IT8", "O", 1),
             seg("CSH"), seg("ITD", "O", 2), seg("DIS", "O", 20), seg("INC", "O", 1), seg("TAX"), seg("FOB"),
             seg("SDQ", "O", 500), seg("IT3", "O", 5), seg("DTM", "O", 10), seg("TC2"), seg("TD1", "O", 1),
             seg("TD5", "O", 12), seg("TD3", "O", 12), seg("TD4", "O", 5), seg("PCT"), seg("MAN", "O", 10),
             seg("MSG"), seg("MTX"), seg("SPI"), seg("TXI"), seg("CB1"),
             loop("N9", "O", 1000, seg("N9", "M", 1), seg("DTM", "O", 10), seg("MEA", "O", 40), seg("MSG", "O", 1000)),
             _n1_loop(200, seg("QTY"), seg("DTM", "O", 1), seg("SCH")),
             loop("SLN", "O", 1000, seg("SLN", "M", 1), seg("MSG"), seg("SI"), seg("PID", "O", 1000), seg("PO3"),
                  seg("TC2"), seg("ADV"), seg("DTM", "O", 10), seg("CTP"), seg("PAM"), seg("PO4"), seg("TAX"),
                  seg("N9"), _sac_loop(), seg("QTY"), seg("N1"), seg("N2"), seg("N3"), seg("N4"), seg("NX2"),
                  seg("REF"), seg("PER")),
             loop("AMT", "O", UNBOUNDED, seg("AMT", "M", 1), seg("REF", "O", 1), seg("PCT")),
             loop("LM", "O", 1000, seg("LM", "M", 1), seg("LQ")),
             loop("LDT", "O", 1000, seg("LDT", "M", 1), seg("QTY"), seg("MSG"), seg("REF", "O", 3)),
             loop("SCH", "O", 104, seg("SCH", "M", 1), seg("TD1"), seg("TD5"), seg("TD3"), seg("TD4"), seg("REF")),
             seg("PKG")),
        loop("CTT", ctt_req, 1, seg("CTT", "M", 1), seg("AMT", "O", 1)),
        seg("SE", "M", 1),
    )


def _asn856() -> Node:
    return loop(
        "856", "M", 1,
        seg("ST", "M", 1), seg("BSN", "M", 1), seg("DTM", "O", 10),
        loop("HL", "M", 200000,
             seg("HL", "M", 1), seg("LIN", "O", 1), seg("SN1", "O", 1),
             loop("SLN", "O", 1000, seg("SLN", "M", 1), seg("PID")), seg("PRF", "O", 1), seg("PO4"),
             loop("PID", "O", 200, seg("PID", "M", 1), seg("MEA")), seg("MEA", "O", 40), seg("PWK", "O", 25),
             seg("PKG", "O", 25), seg("TD1", "O", 20), seg("TD5", "O", 12), seg("TD3", "O", 12), seg("TD4", "O", 5),
             seg("TSD", "O", 1), seg("REF"), seg("PER", "O", 3),
             loop("LH1", "O", 100, seg("LH1", "M", 1), seg("LH2"), seg("LH3"), seg("LFH"), seg("LEP"), seg("LH4"),
                  seg("LHT"), seg("LHR"), seg("PER"), seg("LHE")),
             loop("CLD", "O", 200, seg("CLD", "M", 1), seg("REF"), seg("DTM")),
             seg("MAN"), seg("DTM", "O", 10), seg("FOB", "O", 1), seg("PAL", "O", 1),
             loop("N1", "O", 200, seg("N1", "M", 1), seg("N2", "O", 2), seg("N3", "O", 2), seg("N4", "O", 1),
                  seg("REF", "O", 12), seg("PER", "O", 3), seg("FOB", "O", 1)),
             seg("SDQ", "O", 50), seg("ETD", "O", 1), seg("CUR", "O", 1),
             loop("SAC", "O", UNBOUNDED, seg("SAC", "M", 1), seg("CUR", "O", 1)), seg("GF", "O", 1),
             seg("YNQ", "O", 10), loop("LM", "O", 10, seg("LM", "M", 1), seg("LQ")),
             loop("V1", "O", UNBOUNDED, seg("V1", "M", 1), seg("R4"), seg("DTM"))),
        seg("CTT", "O", 1), seg("SE", "M", 1),
    )


def _inv810() -> Node:
    n1 = loop("N1", "O", 200, seg("N1", "M", 1), seg("N2", "O", 2), seg("N3", "O", 2), seg("N4", "O", 1),
              seg("REF", "O", 12), seg("PER", "O", 3), seg("DMG", "O", 1))
    return loop(
        "810", "M", 1,
        seg("ST", "M", 1), seg("BIG", "M", 1), seg("NTE", "O", 100), seg("CUR", "O", 1), seg("REF", "O", 12),
        seg("YNQ", "O", 10), seg("PER", "O", 3), n1, seg("ITD"), seg("DTM", "O", 10), seg("FOB", "O", 1),
        seg("PID", "O", 200), seg("MEA", "O", 40), seg("PWK", "O", 25), seg("PKG", "O", 25), seg("L7", "O", 1),
        seg("BAL"), seg("INC", "O", 1), seg("PAM"), loop("LM", "O", 10, seg("LM", "M", 1), seg("LQ")),
        loop("N9", "O", 1, seg("N9", "M", 1), seg("MSG", "O", 10)),
        loop("IT1", "O", 200000,
             seg("IT1", "M", 1), seg("CRC", "O", 1), seg("QTY", "O", 5), seg("CUR", "O", 1), seg("IT3", "O", 5),
             seg("TXI", "O", 10), seg("CTP", "O", 25), seg("PAM", "O", 10), seg("MEA", "O", 40),
             loop("PID", "O", 1000, seg("PID", "M", 1), seg("MEA", "O", 10)), seg("PWK", "O", 25),
             seg("PKG", "O", 25), seg("PO4", "O", 1), seg("ITD", "O", 2), seg("REF"), seg("YNQ", "O", 10),
             seg("PER", "O", 5), seg("SDQ", "O", 500), seg("DTM", "O", 10), seg("CAD"), seg("L7"), seg("SR", "O", 1),
             loop("SAC", "O", 25, seg("SAC", "M", 1), seg("TXI", "O", 10)),
             loop("SLN", "O", 1000, seg("SLN", "M", 1), seg("DTM", "O", 1), seg("REF"), seg("PID"), seg("SAC", "O", 25),
                  seg("TC2"), seg("TXI", "O", 10)),
             loop("N1", "O", 200, seg("N1", "M", 1), seg("N2", "O", 2), seg("N3", "O", 2), seg("N4", "O", 1),
                  seg("REF", "O", 12), seg("PER", "O", 3), seg("DMG", "O", 1)),
             loop("LM", "O", 10, seg("LM", "M", 1), seg("LQ")),
             loop("V1", "O", UNBOUNDED, seg("V1", "M", 1), seg("R4"), seg("DTM"))),
        seg("TDS", "M", 1), seg("TXI", "O", 10), seg("CAD", "O", 1), seg("AMT"),
        loop("SAC", "O", 25, seg("SAC", "M", 1), seg("TXI", "O", 10)),
        loop("ISS", "O", UNBOUNDED, seg("ISS", "M", 1), seg("PID", "O", 1)),
        seg("CTT", "O", 1), seg("SE", "M", 1),
    )


def _fa997() -> Node:
    return loop(
        "997", "M", 1,
        seg("ST", "M", 1), seg("AK1", "M", 1),
        loop("AK2", "O", UNBOUNDED, seg("AK2", "M", 1),
             loop("AK3", "O", UNBOUNDED, seg("AK3", "M", 1), seg("AK4", "O", 99)), seg("AK5", "M", 1)),
        seg("AK9", "M", 1), seg("SE", "M", 1),
    )


def _fa999() -> Node:
    return loop(
        "999", "M", 1,
        seg("ST", "M", 1), seg("AK1", "M", 1),
        loop("AK2", "O", UNBOUNDED, seg("AK2", "M", 1),
             loop("IK3", "O", UNBOUNDED, seg("IK3", "M", 1), seg("CTX", "O", 10),
                  loop("IK4", "O", 99, seg("IK4", "M", 1), seg("CTX", "O", 10))),
             seg("IK5", "M", 1)),
        seg("AK9", "M", 1), seg("SE", "M", 1),
    )


# (transaction set id, version family) -> structure; family is "4010" (003xxx/004xxx) or "5010" (005xxx+)
STRUCTURES: dict[tuple[str, str], Node] = {
    ("850", "4010"): _po850("M"),
    ("850", "5010"): _po850("O"),
    ("856", "4010"): _asn856(),
    ("856", "5010"): _asn856(),
    ("810", "4010"): _inv810(),
    ("810", "5010"): _inv810(),
    ("997", "4010"): _fa997(),
    ("997", "5010"): _fa997(),
    ("999", "4010"): _fa999(),
    ("999", "5010"): _fa999(),
}

# X12 segments partners add outside our structures that we accept with a warning (code 2).
TOLERATED: dict[str, frozenset[str]] = {
    "850": frozenset({"NTE", "MTX", "MSG", "QTY", "ACK", "YNQ", "PWK", "K1"}),
    "856": frozenset({"NTE", "MTX", "MSG", "QTY", "PID", "N9", "ACK", "K1"}),
    "810": frozenset({"MTX", "MSG", "N9", "K1", "PKG"}),
    "997": frozenset(),
    "999": frozenset(),
}


def vocabulary(node: Node) -> frozenset[str]:
    """Every segment id that appears anywhere in a structure."""
    if not node.children:
        return frozenset({node.id})
    out: set[str] = set()
    for child in node.children:
        out |= vocabulary(child)
    return frozenset(out)
