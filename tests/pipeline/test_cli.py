"""The `gateway` command line: ingest, status --json, trace, replay, and translate's exit codes and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main

from .conftest import REPO, gateway_store_url, open_store
from .support import GatewayLayout, interchange_850, purchase_order, read_ack_files, sink_documents
from .support import write_gateway_config as write_config


def _cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture
def cli_layout(tmp_path: Path, store_url: str) -> GatewayLayout:
    """A gateway.toml for the CLI tests."""
    return write_config(tmp_path / "gw", gateway_store_url(store_url))


def test_ingest_status_trace(cli_layout: GatewayLayout, tmp_path: Path) -> None:
    good = _write(tmp_path / "in", "good.x12", interchange_850(1, [[purchase_order("PO-CLI-1")],
                                                                   [purchase_order("PO-CLI-2")]]))
    result = _cli("ingest", "--config", str(cli_layout.config), str(good))
    assert result.exit_code == 0, result.output
    [line] = [ln for ln in result.output.splitlines() if ln.strip()]
    file_id = line.split()[0]
    assert "acme-retail" in line and "processed" in line and "acknowledged=2" in line
    assert sorted(d["document"]["po_number"] for d in sink_documents(cli_layout.erp)) == ["PO-CLI-1", "PO-CLI-2"]
    assert len(read_ack_files(cli_layout.outbox())) == 1

    result = _cli("status", "--config", str(cli_layout.config), "--json")
    assert result.exit_code == 0
    status = json.loads(result.output)
    assert status["files"] == [{"partner": "acme-retail", "state": "processed", "count": 1}]
    assert status["documents"] == [{"partner": "acme-retail", "state": "delivered", "count": 2}]

    with open_store(cli_layout) as store:
        [doc, _] = store.documents_for_file(file_id)
    result = _cli("trace", doc.id, "--config", str(cli_layout.config), "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    text = json.dumps(report)
    assert file_id in text and doc.id in text and "PO-CLI-1" in text
    states = [e["state_to"] for e in report["events"] if e.get("document_id") == doc.id and not e.get("outbox_id")]
    assert states[0] in ("received", "acknowledged") and states[-1] == "delivered"
    result = _cli("trace", file_id, "--config", str(cli_layout.config))
    assert result.exit_code == 0 and "good.x12" in result.output
    result = _cli("trace", "01NOSUCHID0000000000000000", "--config", str(cli_layout.config))
    assert result.exit_code == 1 and "nothing known" in result.output


def test_ingest_reports_a_rejected_file_with_exit_1(cli_layout: GatewayLayout, tmp_path: Path) -> None:
    bad = _write(tmp_path / "in", "bad.x12", interchange_850(2, [[purchase_order("PO-BAD")]]).replace(
        b"BEG*00*SA*PO-BAD**20261127", b"BEG*00*SA*PO-BAD**20261399"))
    result = _cli("ingest", "--config", str(cli_layout.config), str(bad))
    assert result.exit_code == 1, result.output
    assert "rejected=1" in result.output


def test_replay_processes_a_file_again_under_todays_config_as_a_child(tmp_path: Path, store_url: str) -> None:
    url = gateway_store_url(store_url)
    long_po = "PO-" + "9" * 30  # BEG03 is at most 22 characters: an error only under strict validation
    strict = write_config(tmp_path / "gw", url, retailer={"quirks": {"strict_validation": True}})
    path = _write(tmp_path / "in", "long.x12", interchange_850(3, [[purchase_order(long_po)]]))
    result = _cli("ingest", "--config", str(strict.config), str(path))
    assert result.exit_code == 1 and "rejected=1" in result.output, result.output
    original_id = result.output.split()[0]
    assert sink_documents(strict.erp) == []

    relaxed = write_config(tmp_path / "gw", url)  # the partner agreement changed: lenient from today
    result = _cli("replay", original_id, "--config", str(relaxed.config), "--reason", "lenient now")
    assert result.exit_code == 0, result.output
    assert f"replayed {original_id} as " in result.output
    child_id = result.output.split(" as ")[1].split()[0]
    with open_store(relaxed) as store:
        child = store.get_file(child_id)
        assert child is not None and child.parent_id == original_id and child.transport == "replay"
        assert [d.state for d in store.documents_for_file(child_id)] == ["delivered"]
        assert [d.state for d in store.documents_for_file(original_id)] == ["rejected"]
    assert [d["document"]["po_number"] for d in sink_documents(relaxed.erp)] == [long_po]
    result = _cli("trace", original_id, "--config", str(relaxed.config))
    assert child_id in result.output


def _translate_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("store_kind", ["sqlite"])  # translate never opens the store
def test_translate_exit_codes(tmp_path: Path, store_kind: str) -> None:
    good = _write(tmp_path, "good.x12", interchange_850(4, [[purchase_order("PO-T")]]))
    result = _cli("translate", str(good))
    assert result.exit_code == 0
    [line] = _translate_lines(result.output)
    assert line["status"] == "accepted" and line["document"]["po_number"] == "PO-T"

    bad = _write(tmp_path, "bad.x12", good.read_bytes().replace(b"*20261127~", b"*20261399~", 1))
    result = _cli("translate", str(good), str(bad))
    assert result.exit_code == 1
    assert sorted(x["status"] for x in _translate_lines(result.output)) == ["accepted", "rejected"]

    assert _cli("translate", str(tmp_path / "missing.x12")).exit_code == 2
    assert _cli("translate", "--partner", "nobody", str(good), "--config", str(tmp_path / "none.toml")).exit_code == 2
    broken_config = _write(tmp_path, "broken.toml", b"[gateway\n")
    result = _cli("translate", "--partner", "x", "--config", str(broken_config), str(good))
    assert result.exit_code == 2 and "broken.toml" in result.output


NOT_EDI = {
    "empty.x12": b"",
    "hello.txt": b"hello, this is not EDI at all\n",
    "binary.bin": bytes(range(256)) * 8,
    "ebcdic.x12": "ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATEWAY     *261127*0930*U*00401*"
                  "000000001*0*P*>~GS*PO*ACMERETAIL*EDIGATEWAY*20261127*0930*1*X*004010~".encode("cp500"),
    "truncated.x12": b"ISA*00*          *00*   ",
    "utf16.x12": "ISA*00*          *00*          *ZZ*ACMERETAIL     ~".encode("utf-16"),
}


def test_translate_turns_any_bad_input_into_a_rejected_line_never_a_traceback(tmp_path: Path) -> None:
    paths = [_write(tmp_path / "bad", name, data) for name, data in NOT_EDI.items()]
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "translate", *map(str, paths)], cwd=REPO,
                          capture_output=True, timeout=120)
    assert "Traceback" not in proc.stderr.decode(errors="replace"), proc.stderr.decode(errors="replace")
    assert proc.returncode == 1
    lines = _translate_lines(proc.stdout.decode())
    by_source: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_source.setdefault(Path(line["source"].split(":")[0].split("#")[0]).name, []).append(line)
    assert sorted(by_source) == sorted(NOT_EDI), lines
    for name, got in by_source.items():
        assert all(x["status"] == "rejected" for x in got), (name, got)
        assert all(x["issues"] and x["issues"][0]["message"] for x in got), (name, got)
    ebcdic = " ".join(i["message"] for x in by_source["ebcdic.x12"] for i in x["issues"]).lower()
    assert "ebcdic" in ebcdic, ebcdic


def test_replaying_a_delivered_file_does_not_deliver_the_order_twice(cli_layout: GatewayLayout, tmp_path: Path) -> None:
    path = _write(tmp_path / "in", "po.x12", interchange_850(5, [[purchase_order("PO-ONCE")]]))
    result = _cli("ingest", "--config", str(cli_layout.config), str(path))
    assert result.exit_code == 0
    original_id = result.output.split()[0]
    result = _cli("replay", original_id, "--config", str(cli_layout.config))
    assert result.exit_code == 0, result.output
    child_id = result.output.split(" as ")[1].split()[0]
    with open_store(cli_layout) as store:
        [original] = store.documents_for_file(original_id)
        [again] = store.documents_for_file(child_id)  # parsed again: the file is not a duplicate of its parent
    assert (again.state, again.duplicate_of) == ("duplicate", original.id)  # but the order is (business layer)
    assert [d["document_id"] for d in sink_documents(cli_layout.erp)] == [original.id]
