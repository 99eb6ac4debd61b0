"""Generate large, valid X12 850 and 856 files for benchmarks (template based, deterministic)."""

from __future__ import annotations

import random
from pathlib import Path

ISA = ("ISA*00*          *00*          *ZZ*BENCHRETAIL    *ZZ*BENCHGATEWAY   *261127*1200*U*00401*{icn:09d}*0*P*>~\n")
GS = "GS*{fid}*BENCHRETAIL*BENCHGATEWAY*20261127*1200*{gcn}*X*004010~\n"


def _po(n: int, rnd: random.Random, lines: int) -> list[str]:
    segs = [f"ST*850*{n:04d}", f"BEG*00*SA*PO{n:08d}**20261127", "CUR*BY*USD", f"REF*DP*{rnd.randint(1, 999):03d}",
            "DTM*002*20261215", "N1*ST*BENCH STORE 42*92*0042", "N3*100 MAIN STREET", "N4*SPRINGFIELD*IL*62701*US",
            "N1*BT*BENCH RETAIL INC*92*0001"]
    total = 0
    for i in range(1, lines + 1):
        qty = rnd.randint(1, 500)
        segs.append(f"PO1*{i}*{qty}*EA*{rnd.randint(100, 99999) / 100:.2f}**UP*{rnd.randint(10**11, 10**12 - 1)}"
                    f"*VN*SKU{rnd.randint(1, 99999):05d}")
        segs.append(f"PID*F****WIDGET MODEL {i} COLOUR BLUE")
        total += qty
    segs.append(f"CTT*{lines}*{total}")
    segs.append(f"SE*{len(segs) + 1}*{n:04d}")
    return segs


def _asn(n: int, rnd: random.Random, packs: int) -> list[str]:
    segs = [f"ST*856*{n:04d}", f"BSN*00*SH{n:08d}*20261127*1200*0001", "DTM*011*20261127",
            "HL*1**S", f"TD1*CTN25*{packs}****G*{packs * 12}*LB", "TD5**2*UPSN*U",
            f"REF*BM*BOL{n:09d}", "N1*ST*BENCH STORE 42*92*0042", "N1*SF*BENCH 3PL*92*0900",
            "HL*2*1*O", f"PRF*PO{n:08d}***20261120"]
    hl = 2
    items = 0
    for p in range(packs):
        hl += 1
        pack_hl = hl
        segs.append(f"HL*{pack_hl}*2*P")
        serial = f"00{n % 10**7:07d}{p:07d}"
        body = "0" + "0614141" + serial[-9:]
        digits = [int(c) for c in body]
        s = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
        segs.append(f"MAN*GM*00{body}{(10 - s % 10) % 10}")
        for _ in range(2):
            hl += 1
            items += 1
            segs.append(f"HL*{hl}*{pack_hl}*I")
            segs.append(f"LIN**UP*{rnd.randint(10**11, 10**12 - 1)}*VN*SKU{rnd.randint(1, 99999):05d}")
            segs.append(f"SN1**{rnd.randint(1, 48)}*EA")
    segs.append(f"CTT*{hl}")
    segs.append(f"SE*{len(segs) + 1}*{n:04d}")
    return segs


def generate(path: Path, kind: str, target_bytes: int, seed: int = 7) -> int:
    """Write an interchange file of about target_bytes; return the number of transaction sets."""
    rnd = random.Random(seed)
    fid = "PO" if kind == "850" else "SH"
    written = 0
    n_sets = 0
    icn = 1
    with path.open("w", encoding="ascii", newline="") as out:
        while written < target_bytes:
            head = ISA.format(icn=icn) + GS.format(fid=fid, gcn=icn)
            out.write(head)
            written += len(head)
            in_group = 0
            while in_group < 500 and written < target_bytes:
                n_sets += 1
                in_group += 1
                segs = _po(n_sets, rnd, rnd.randint(3, 20)) if kind == "850" else _asn(n_sets, rnd, rnd.randint(2, 8))
                text = "~\n".join(segs) + "~\n"
                out.write(text)
                written += len(text)
            tail = f"GE*{in_group}*{icn}~\nIEA*1*{icn:09d}~\n"
            out.write(tail)
            written += len(tail)
            icn += 1
    return n_sets


if __name__ == "__main__":
    import sys

    generate(Path(sys.argv[1]), sys.argv[2], int(float(sys.argv[3]) * 1_000_000))
