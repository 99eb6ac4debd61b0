"""Which X12 core runs in this process: the compiled build (mypyc) when it matches the sources, else the sources.

Rules:
- The modules in ``NATIVE_MODULES`` are ordinary typed Python; ``python -m parsers.native build`` (run by
  ``make``) compiles them beside their sources and records the SHA-256 of every source it compiled.
- ``parsers/__init__.py`` calls ``guard()`` before any of those modules is imported: the compiled
  modules are used only when the record matches every source on disk, every extension is there and
  ``GATEWAY_NATIVE`` is not ``0``. Otherwise an import hook loads the ``.py`` files, so an edited
  source is never shadowed by an old build (extension modules otherwise win over ``.py`` files).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "parsers" / "_native.json"
GROUP = "parsers._native"  # mypyc's group name: its shared library is the module GROUP_LIBRARY
GROUP_LIBRARY = GROUP + "__mypyc"

# Per-segment and per-document work of `gateway translate` and the pipeline's inbound step.
NATIVE_MODULES: tuple[str, ...] = (
    "parsers.x12.delimiters",
    "parsers.x12.stream",
    "parsers.x12.rules.validate",
    "parsers.x12.readers._common",
    "parsers.x12.readers.purchase_order",
    "parsers.x12.readers.ship_notice",
    "parsers.x12.readers.invoice",
    "parsers.x12.readers.totals",
    "parsers.translate",
)

_state: list[str] = []  # what guard() decided, for status()


def source_path(module: str) -> Path:
    """The ``.py`` file of one of the modules we compile."""
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def source_digest(path: Path) -> str:
    """SHA-256 of a source file, as recorded by the build."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extension_exists(module: str) -> bool:
    """True when an extension module for ``module`` lies beside its source."""
    src = source_path(module)
    return any(src.with_name(src.stem + suffix).exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def build_is_current() -> str | None:
    """None when the compiled build matches the sources on disk, else why it cannot be used."""
    try:
        recorded = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "not built"
    sources = recorded.get("sources", {}) if isinstance(recorded, dict) else {}
    if set(sources) != set(NATIVE_MODULES):
        return "built for another module list"
    if recorded.get("python") != sys.implementation.cache_tag:
        return "built for another Python"
    for module in NATIVE_MODULES:
        if sources[module] != source_digest(source_path(module)):
            return f"{source_path(module).relative_to(ROOT)} changed since the build"
    for module in NATIVE_MODULES:
        if not _extension_exists(module):
            return f"extension of {module} missing"
    if not _extension_exists(GROUP_LIBRARY):
        return "shared library missing"
    return None


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Import hook: the listed modules come from their ``.py`` files even when an extension lies beside them."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = frozenset(modules)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        """The source spec of one of our modules; None for any other module."""
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def guard() -> None:
    """Decide once per process whether the compiled modules may load; if not, make their sources load."""
    if _state:
        return
    if os.environ.get("GATEWAY_NATIVE", "1") == "0":
        why: str | None = "GATEWAY_NATIVE=0"
    else:
        why = build_is_current()
    _state.append("compiled (mypyc)" if why is None else f"pure Python ({why})")
    if why is not None and any(_extension_exists(m) for m in NATIVE_MODULES):
        sys.meta_path.insert(0, _SourceFirst(NATIVE_MODULES))


def status() -> str:
    """How the X12 core runs in this process: compiled, or pure Python and why."""
    guard()
    return _state[0]


def is_compiled() -> bool:
    """True when the X12 core modules in this process are the compiled ones."""
    guard()
    mods = [sys.modules.get(m) for m in NATIVE_MODULES]
    return all(m is not None and not str(getattr(m, "__file__", "")).endswith(".py") for m in mods)
