"""The compiled X12 core (mypyc) gives byte-identical results to the same sources run as plain Python.

The comparison runs every X12 fixture, the examples, the corpus (when present), generated 850/856
files and damaged variants of all of them (cut short, bytes changed, delimiters swapped) through
``translate`` in two subprocesses, GATEWAY_NATIVE=0 and the compiled build. Under CI=true the
compiled build must be there (CI builds it); elsewhere the comparison is skipped without it.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from parsers import native_guard
from parsers.x12.stream import EnvelopeRules

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"

_TRANSLATE_ALL = r"""
import json, sys
from parsers.native_guard import is_compiled, status
from parsers.translate import translate
from parsers.x12.stream import EnvelopeRules
strict = EnvelopeRules(strict_segments=True, gs01_mismatch=False)
out = sys.stdout
out.write(json.dumps({"status": status()}) + "\n")
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    for rules in (None, strict):
        for t in translate(data, name=path, rules=rules):
            out.write(t.to_json() + "\n")
out.write(json.dumps({"compiled": is_compiled()}) + "\n")
"""


def _inputs(tmp_path: Path) -> list[Path]:
    """The files both builds translate: fixtures, samples, corpus, generated files and damaged copies."""
    from bench.generate import generate

    files = sorted((ROOT / "tests" / "fixtures" / "x12").rglob("*"))
    files += sorted((ROOT / "examples" / "samples").rglob("*"))
    for folder in ("x12", "broken"):
        if (CORPUS / folder).is_dir():
            files += sorted((CORPUS / folder).iterdir())
    files = [f for f in files if f.is_file()]
    for kind in ("850", "856"):
        path = tmp_path / f"gen_{kind}.x12"
        generate(path, kind, 200_000)
        files.append(path)
    rng = random.Random(20261127)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for n, src in enumerate(list(files)):
        data = src.read_bytes()
        if not data:
            continue
        variants = [data[: len(data) // 2], data.replace(b"~", b"~\r\n", 3), data.replace(b"*", b"|")]
        for _ in range(3):
            buf = bytearray(data)
            for _ in range(1 + len(buf) // 500):
                buf[rng.randrange(len(buf))] = rng.choice(b"*~:^>|\n\r 0A\x00\xff")
            variants.append(bytes(buf))
        for k, variant in enumerate(variants):
            path = damaged / f"{n:03d}_{k}_{src.name}"
            path.write_bytes(variant)
            files.append(path)
    return files


def _translate_all(files: list[Path], native: str) -> list[str]:
    env = {**os.environ, "GATEWAY_NATIVE": native}
    proc = subprocess.run([sys.executable, "-c", _TRANSLATE_ALL, *map(str, files)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()


def test_compiled_build_translates_exactly_like_the_sources(tmp_path: Path) -> None:
    """Same JSON lines, byte for byte, from the compiled build and the plain-Python sources."""
    why = native_guard.build_is_current()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the compiled X12 core is not built ({why}): CI builds it with `make native`")
        pytest.skip(f"the compiled X12 core is not built ({why})")
    files = _inputs(tmp_path)
    compiled = _translate_all(files, "1")
    pure = _translate_all(files, "0")
    assert json.loads(compiled[0]) == {"status": "compiled (mypyc)"}
    assert json.loads(compiled[-1]) == {"compiled": True}
    assert json.loads(pure[0]) == {"status": "pure Python (GATEWAY_NATIVE=0)"}
    assert json.loads(pure[-1]) == {"compiled": False}
    assert len(compiled) == len(pure) > 1000
    for a, b in zip(compiled[1:-1], pure[1:-1], strict=True):
        assert a == b


def test_a_changed_source_is_never_shadowed_by_an_old_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build record must match every source; otherwise the reason is given and the sources load."""
    record = {"python": sys.implementation.cache_tag,
              "sources": {m: native_guard.source_digest(native_guard.source_path(m))
                          for m in native_guard.NATIVE_MODULES}}
    manifest = tmp_path / "_native.json"
    monkeypatch.setattr(native_guard, "MANIFEST", manifest)
    assert native_guard.build_is_current() == "not built"
    record["sources"]["parsers.x12.stream"] = "0" * 64
    manifest.write_text(json.dumps(record))
    assert native_guard.build_is_current() == str(Path("parsers/x12/stream.py")) + " changed since the build"
    record["python"] = "cpython-0"
    manifest.write_text(json.dumps(record))
    assert native_guard.build_is_current() == "built for another Python"


def test_the_import_hook_loads_sources_when_told_to() -> None:
    """With GATEWAY_NATIVE=0 every compiled module comes from its .py file, whatever lies beside it."""
    code = ("import sys, parsers.translate, parsers.x12.readers\n"
            "from parsers.native_guard import NATIVE_MODULES\n"
            "print(all(sys.modules[m].__file__.endswith('.py') for m in NATIVE_MODULES))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "GATEWAY_NATIVE": "0"},
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "True", proc.stderr


def test_translating_leaves_no_handled_exception_behind() -> None:
    """A file that makes a reader handle an error and then stop early leaves no exception behind in the caller.

    A compiled generator suspended at a ``yield`` inside an ``except`` block keeps the exception it handled as
    the caller's current exception (every later error there shows it as its context): the readers never yield
    inside one. Here: invalid UTF-8 in a broken ISA, more than the 1 KB the scanner reads ahead, no other ISA.
    """
    from parsers.translate import translate

    x12 = b"ISA*00*\xff" + b"A" * 100 + b"~\n" + b"GS*PO*X*Y*20260101*1200*1*X*004010~\n" * 40
    xml = b"<?xml version='1.0'?><Order><unclosed></Order>"
    for data, name in ((x12, "bad.x12"), (xml, "bad.xml")):
        results = list(translate(data, name=name))
        assert results[-1].status == "rejected"
        assert sys.exc_info() == (None, None, None), name
        try:
            raise ValueError("a later error")
        except ValueError as exc:
            assert exc.__context__ is None, repr(exc.__context__)


def test_envelope_rules_survive_pickling() -> None:
    """Translate workers receive the rules pickled; the compiled class pickles by value."""
    rules = EnvelopeRules(gs01_mismatch=False, strict_segments=True)
    assert pickle.loads(pickle.dumps(rules)) == rules
