"""`gateway trace`: everything the ledger knows about one file or document, in order."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from gateway.store import Store


def trace_report(store: Store, trace_id: str) -> dict[str, Any] | None:
    """A file's (or a document's file's) rows, documents, events and outbox messages; None if unknown."""
    f = store.get_file(trace_id)
    focus = None
    if f is None:
        doc = store.get_document(trace_id)
        if doc is None:
            row = store.get_outbox(trace_id)
            if row is None or row.document_id is None:
                return None
            doc = store.get_document(row.document_id)
            if doc is None:
                return None
        focus = doc.id
        f = store.get_file(doc.file_id)
        if f is None:
            return None
    documents = store.documents_for_file(f.id)
    outbox: list[dict[str, Any]] = []
    for d in documents:
        outbox.extend(_outbox_dict(r) for r in store.find_outbox(document_id=d.id))
    outbox.extend(_outbox_dict(r) for prefix in (f"ack:{f.id}:", f"reack:{f.id}:")
                  for r in store.find_outbox(key_prefix=prefix))
    children = [asdict(c) for c in store.find_files(parent_id=f.id)] if _has_param(store, "parent_id") else []
    docs = []
    for d in documents:
        item = asdict(d)
        item["issues"] = json.loads(d.issues_json or "[]")
        item.pop("issues_json", None)
        item["document"] = json.loads(d.canonical_json) if d.canonical_json else None
        if d.direction == "out":
            from gateway.reconcile import ack_rows_for

            item["acks"] = ack_rows_for(store, d.id)
        item.pop("canonical_json", None)
        docs.append(item)
    return {"file": asdict(f), "focus": focus, "documents": docs, "events": store.history(f.id),
            "outbox": outbox, "replays": children}


def _outbox_dict(row: Any) -> dict[str, Any]:
    """An outbox row for the report, without its payload bytes."""
    data = asdict(row)
    data.pop("payload", None)
    return data


def _has_param(store: Store, name: str) -> bool:
    import inspect

    return name in inspect.signature(store.find_files).parameters


def format_trace(report: dict[str, Any]) -> str:
    """The trace report as text for a terminal."""
    f = report["file"]
    lines = [f"file {f['id']}  {f['filename']}  {f['size']} bytes  via {f['transport']}",
             f"  partner {f['partner_id'] or '-'}  state {f['state']}  sha256 {f['sha256'][:16]}…"
             f"  received {f['received_at']}"]
    if f.get("parent_id"):
        lines.append(f"  replay of {f['parent_id']}")
    for d in report["documents"]:
        mark = "*" if d["id"] == report.get("focus") else " "
        env = f"ISA13 {d['isa13'] or '-'} GS06 {d['gs06'] or '-'} ST02 {d['st02'] or '-'}"
        lines.append(f"{mark} document {d['id']}  {d['kind']} {d['business_key'] or ''}  {env}  state {d['state']}"
                     + (f"  duplicate of {d['duplicate_of']}" if d.get("duplicate_of") else ""))
        for ack in d.get("acks", []):
            detail = f"  {ack['detail']}" if ack["detail"] else ""
            lines.append(f"      ack {ack['status']}  due {ack['due_at']}{detail}")
        for issue in d["issues"][:10]:
            where = f" {issue.get('segment', '')}@{issue.get('position', '')}" if issue.get("segment") else ""
            lines.append(f"      {issue['severity']}: {issue['code']}{where}: {issue['message']}")
    lines.append("events:")
    for e in report["events"]:
        who = e.get("document_id") or e.get("outbox_id") or ""
        detail = json.dumps(e["detail"], default=str) if e.get("detail") else ""
        lines.append(f"  {e['at']}  {e.get('state_from') or '':>12} -> {e['state_to']:<13} {who}  {detail[:160]}")
    if report["outbox"]:
        lines.append("outbox:")
        for o in report["outbox"]:
            error = f"  last error: {o['last_error']}" if o.get("last_error") else ""
            lines.append(f"  {o['id']}  {o['kind']:<8} {o['state']:<8} attempts {o['attempts']}  "
                         f"{o['destination'][:80]}{error}")
    for r in report.get("replays", []):
        lines.append(f"replayed as {r['id']} ({r['state']})")
    return "\n".join(lines)
