"""The command line starts light: `gateway translate` imports only what translating needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.cli import DOCUMENT_KINDS
from parsers.canonical import all_models


def test_document_kinds_match_the_models() -> None:
    assert tuple(sorted(all_models())) == DOCUMENT_KINDS


def test_translate_imports_no_config_store_or_xml() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from gateway.cli import main\n"
        "result = CliRunner().invoke(main, ['translate', '--jobs', '1', sys.argv[1]])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('gateway', 'partners', 'parsers', 'lxml', 'sqlalchemy'))))\n"
    )
    sample = Path(__file__).resolve().parent.parent / "examples" / "samples" / "acme_850_po4500012345.x12"
    out = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(out.split())
    assert "gateway.translating" in loaded
    for module in ("gateway.config", "gateway.store", "partners.profile", "parsers.xml", "parsers.csv", "lxml",
                   "sqlalchemy"):
        assert module not in loaded, f"{module} is imported by a plain translate"
