"""Build the compiled X12 hot path with mypyc: ``python -m parsers.native build|clean|status``.

Rules:
- ``build`` compiles ``NATIVE_MODULES`` (see ``parsers.native_guard``) into extension modules beside
  their sources and records the SHA-256 of every source it compiled in ``parsers/_native.json``;
  ``parsers.native_guard`` loads them only while that record holds.
- Without a C compiler, Python headers or mypy nothing is built and everything runs as plain Python;
  behaviour is the same either way (tests compare), only speed differs.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from parsers.native_guard import (
    GROUP,
    GROUP_LIBRARY,
    MANIFEST,
    NATIVE_MODULES,
    ROOT,
    build_is_current,
    source_digest,
    source_path,
    status,
)


def clean() -> None:
    """Remove the compiled build (extensions and record), leaving the sources."""
    MANIFEST.unlink(missing_ok=True)
    for module in (*NATIVE_MODULES, GROUP_LIBRARY):
        src = source_path(module)
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            src.with_name(src.stem + suffix).unlink(missing_ok=True)


def build(*, verbose: bool = False) -> None:
    """Compile ``NATIVE_MODULES`` with mypyc beside their sources and record what was compiled.

    Raises whatever the compiler raises; the old build is removed first, so a failed build leaves pure Python.
    """
    import shutil
    import tempfile

    from mypyc.build import mypycify  # build-time only (mypy is a development dependency)
    from setuptools import setup

    clean()
    digests = {m: source_digest(source_path(m)) for m in NATIVE_MODULES}
    work = Path(tempfile.mkdtemp(prefix="gateway-native-"))
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)  # mypyc names modules by their path from here; build_ext --inplace writes beside them
        paths = [str(source_path(m).relative_to(ROOT)) for m in NATIVE_MODULES]
        extensions = mypycify(paths, opt_level="3", group_name=GROUP, target_dir=str(work / "c"),
                              verbose=verbose)
        setup(name="gateway-native", ext_modules=extensions, packages=[], py_modules=[], script_args=[
            "--quiet" if not verbose else "--verbose", "build_ext", "--inplace",
            "--build-temp", str(work / "temp"), "--build-lib", str(work / "lib")])
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)
    # the sources must not have changed while compiling: record what was read at the start
    MANIFEST.write_text(json.dumps({"python": sys.implementation.cache_tag, "sources": digests}, indent=1) + "\n",
                        encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m parsers.native build|clean|status``."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "status"
    if command == "build":
        why = build_is_current()
        if "--if-stale" in args and why is None:
            return 0
        print(f"parsers.native: compiling the X12 core with mypyc ({why or 'asked to'})", file=sys.stderr)
        try:
            build(verbose="-v" in args)
        except (Exception, SystemExit) as exc:  # no compiler, headers or mypy (setuptools exits on errors)
            print(f"parsers.native: compiled build failed ({exc.__class__.__name__}: {exc}); "
                  "the X12 core runs as plain Python", file=sys.stderr)
            clean()
            return 0 if "--allow-failure" in args else 1
        print(f"parsers.native: compiled {len(NATIVE_MODULES)} modules with mypyc")
        return 0
    if command == "clean":
        clean()
        return 0
    if command == "status":
        print(status())
        return 0
    print("usage: python -m parsers.native build [--if-stale] [--allow-failure] [-v] | clean | status",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
