"""Configuration loading: layering, partners folder, and errors that name the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gateway.toml"


def test_the_example_config_loads_with_defaults_layered_under_partners() -> None:
    cfg = load_config(EXAMPLE)
    acme = cfg.partner("acme-retail")
    assert acme.acks.functional_ack == "997" and acme.dedup.window_days == 90  # from [defaults]
    assert acme.delimiters.component == ">"  # the partner's own table wins
    assert acme.inbound[0].path.is_absolute()  # type: ignore[union-attr]
    assert cfg.gateway.resolved_store_url().startswith("sqlite:///")


def _write(tmp_path: Path, text: str, name: str = "gateway.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_error_names_the_file_the_key_and_the_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[partners]]\nid = "p1"\n[partners.acks]\nfunctional_ack = "998"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text and "partners[0].acks.functional_ack" in text and "998" in text


def test_unknown_keys_and_bad_toml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"gateway\.pol_seconds"):
        load_config(_write(tmp_path, "[gateway]\npol_seconds = 1\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[gateway\n", "bad.toml"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_partners_folder_and_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "partners").mkdir()
    _write(tmp_path / "partners", 'id = "acme"\nx12 = { qualifier = "ZZ", id = "ACME" }\n', "acme.toml")
    cfg = load_config(_write(tmp_path, 'partners_dir = "partners"\n[defaults.acks]\nfunctional_ack = "999"\n'))
    assert cfg.partner("acme").acks.functional_ack == "999"
    _write(tmp_path / "partners", 'id = "acme"\n', "again.toml")
    with pytest.raises(ConfigError, match="already defined"):
        load_config(tmp_path / "gateway.toml")


def test_an_outbound_folder_that_is_also_inbound_is_refused(tmp_path: Path) -> None:
    text = ('[[partners]]\nid = "loop"\ninbound = [{ type = "folder", path = "x" }]\n'
            'outbound = { type = "folder", path = "x" }\n')
    with pytest.raises(ConfigError, match="take its own messages back in"):
        load_config(_write(tmp_path, text))
