"""The gateway's TOML configuration: store, folders, our identity, SMTP, HTTP, and partner profiles.

Settings are layered: built-in defaults -> ``[defaults]`` (applied under every partner) -> the
partner's own table (in ``[[partners]]`` or one file per partner in ``partners_dir``). Every
error names the file, the key and what is wrong.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parsers.x12.stream import EnvelopeRules
from partners.profile import FolderTransport, PartnerProfile, SftpTransport, X12Identity


class ConfigError(Exception):
    """The configuration cannot be used; the message says which file and key, and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmtpSettings(_Strict):
    """Where alert emails go out."""

    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username_env: str | None = None
    password_env: str | None = None
    sender: str = "edi-gateway@localhost"
    ops_emails: list[str] = Field(default_factory=list)
    timeout_seconds: float = 10.0
    digest_seconds: float = 60.0  # alerts of one partner within this window go out as one digest


class HttpSettings(_Strict):
    """The ASGI server for the AS2 endpoint, the ops API and the dashboard."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None


class GatewaySettings(_Strict):
    """Store, archive and working folders."""

    data_dir: Path = Path("var")
    store_url: str | None = None  # default: sqlite:///<data_dir>/gateway.db
    worker_id: str | None = None
    poll_seconds: float = 0.5
    max_attempts: int = 6
    retry_base_seconds: float = 5.0
    lease_seconds: float = 60.0

    def resolved_store_url(self) -> str:
        """The SQLAlchemy URL of the store (SQLite in data_dir unless configured)."""
        return self.store_url or f"sqlite:///{(self.data_dir / 'gateway.db').as_posix()}"


class GatewayConfig(_Strict):
    """The whole configuration."""

    gateway: GatewaySettings = GatewaySettings()
    identity: X12Identity = X12Identity(qualifier="ZZ", id="EDIGATEWAY")
    smtp: SmtpSettings = SmtpSettings()
    http: HttpSettings = HttpSettings()
    partners: list[PartnerProfile] = Field(default_factory=list)
    source_path: Path | None = None

    def partner(self, partner_id: str) -> PartnerProfile:
        """The profile with this id; KeyError when there is none."""
        for p in self.partners:
            if p.id == partner_id:
                return p
        raise KeyError(partner_id)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` onto ``base`` (tables merge, everything else replaces)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(exc: ValidationError, file: Path, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        key = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "(top level)"
        value = err.get("input")
        got = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
        lines.append(f"{file}: {key}: {err['msg']}{got}")
    return "\n".join(lines)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path) -> GatewayConfig:
    """Load and validate the configuration file (and its partners folder)."""
    path = Path(path)
    raw = _read_toml(path)
    base_dir = path.parent
    defaults = raw.pop("defaults", {})
    partners_dir = raw.pop("partners_dir", None)
    partner_tables: list[tuple[Path, str, dict[str, Any]]] = []
    for i, table in enumerate(raw.pop("partners", [])):
        partner_tables.append((path, f"partners[{i}].", table))
    if partners_dir:
        pdir = (base_dir / partners_dir).resolve()
        if not pdir.is_dir():
            raise ConfigError(f"{path}: partners_dir: folder {pdir} does not exist")
        for ppath in sorted(pdir.glob("*.toml")):
            partner_tables.append((ppath, "", _read_toml(ppath)))
    profiles: list[PartnerProfile] = []
    seen: dict[str, Path] = {}
    for file, prefix, table in partner_tables:
        merged = _merge(defaults, table)
        try:
            profile = PartnerProfile.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, file, prefix)) from None
        if profile.id in seen:
            raise ConfigError(f"{file}: {prefix}id: partner id {profile.id!r} is already defined in {seen[profile.id]}")
        seen[profile.id] = file
        profile = _absolute_paths(profile, file.parent)
        _check_loops(profile, file, prefix)
        profiles.append(profile)
    try:
        cfg = GatewayConfig.model_validate({**raw, "partners": [], "source_path": path})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    settings = cfg.gateway
    if not settings.data_dir.is_absolute():
        settings = settings.model_copy(update={"data_dir": (base_dir / settings.data_dir).resolve()})
    return cfg.model_copy(update={"partners": profiles, "gateway": settings})


def _check_loops(profile: PartnerProfile, file: Path, prefix: str) -> None:
    """Refuse an outbound transport that writes where an inbound one reads (we would ingest our own acks)."""
    out = profile.outbound
    for n, inbound in enumerate(profile.inbound):
        same = False
        if isinstance(out, FolderTransport) and isinstance(inbound, FolderTransport):
            same = out.path.resolve() == inbound.path.resolve()
        elif isinstance(out, SftpTransport) and isinstance(inbound, SftpTransport):
            same = ((out.host, out.port, out.username) == (inbound.host, inbound.port, inbound.username)
                    and bool(set(out.remote_paths[:1]) & set(inbound.remote_paths)))
        if same:
            raise ConfigError(f"{file}: {prefix}outbound: partner {profile.id!r} would write to the same place its "
                              f"inbound[{n}] reads from; the gateway would take its own messages back in")


def _absolute_paths(profile: PartnerProfile, base: Path) -> PartnerProfile:
    """Resolve relative folder paths in a profile against the file that defined it."""

    def fix(model: BaseModel) -> BaseModel:
        updates: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, Path) and not value.is_absolute():
                updates[name] = (base / value).resolve()
            elif isinstance(value, list) and value and all(isinstance(v, Path) for v in value):
                updates[name] = [v if v.is_absolute() else (base / v).resolve() for v in value]
        return model.model_copy(update=updates) if updates else model

    return profile.model_copy(update={
        "inbound": [fix(t) for t in profile.inbound],
        "outbound": fix(profile.outbound) if profile.outbound is not None else None,
        "sinks": [fix(s) for s in profile.sinks],
    })


def envelope_rules(profile: PartnerProfile | None) -> EnvelopeRules:
    """Envelope rules from a partner's allowed quirks (defaults when no partner)."""
    if profile is None:
        return EnvelopeRules()
    q = profile.quirks
    return EnvelopeRules(gs01_mismatch=q.gs01_mismatch, isa11_repetition_in_00401=q.isa11_repetition_in_00401,
                         unpadded_iea02=q.unpadded_iea02, short_isa=q.short_isa,
                         segment_count_mismatch=q.segment_count_mismatch, strict_segments=q.strict_validation)
