"""Trading partner profiles: who a partner is, how they send, how we answer, where their documents go.

Profiles are frozen pydantic models. Settings are layered as Bots does it: built-in defaults ->
the config's ``[defaults]`` -> the partner's own table. Transport settings are one small model per
kind of transport, picked by the ``type`` field (a discriminated union), never by name lookup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parsers.csv.mapping import CsvColumn as CsvColumn  # re-exported: the CSV mapping lives with its reader
from parsers.csv.mapping import CsvMapping as CsvMapping


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class X12Identity(_Frozen):
    """An X12 sender/receiver identity: ISA qualifier + id, with the GS application code."""

    qualifier: str = "ZZ"
    id: str
    gs_id: str | None = None  # GS02/GS03; defaults to the ISA id

    @field_validator("id", "qualifier")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def application_code(self) -> str:
        """The GS02/GS03 code for this identity."""
        return self.gs_id or self.id


class Delimiters(_Frozen):
    """The separators we write to a partner (what they read)."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    segment_suffix: str = "\n"  # written after each terminator; "" for one long line


class Quirks(_Frozen):
    """Deviations from the standard that a partner is allowed (warnings); False makes them errors."""

    gs01_mismatch: bool = True  # GS01 does not match the transaction sets in the group
    isa11_repetition_in_00401: bool = True  # ISA11 '^' in a 00401 envelope
    unpadded_iea02: bool = True  # IEA02 not zero-padded to 9 digits
    short_isa: bool = True  # ISA elements not padded to their fixed widths
    missing_trailers: bool = False  # accept a file whose SE/GE/IEA is missing
    segment_count_mismatch: bool = False
    strict_validation: bool = False  # syntax notes, lengths and characters are errors, not warnings


class AckPolicy(_Frozen):
    """How we acknowledge what this partner sends us."""

    functional_ack: Literal["997", "999", "none"] = "997"
    ta1: Literal["never", "requested", "on_error", "always"] = "requested"
    ack_accepted: bool = True  # send 997/999 for accepted groups too, not only rejections
    reack_duplicates: bool = True  # acknowledge a re-sent interchange again
    expect_ack_within_hours: float = 24.0  # outbound: their 997 is overdue after this


class DedupPolicy(_Frozen):
    """Which duplicate checks apply, and for how long a key is remembered."""

    content_hash: bool = True
    control_numbers: bool = True
    business_key: bool = True
    window_days: int = 90


class FolderTransport(_Frozen):
    """A local (or mounted) folder: watched inbound, or written outbound."""

    type: Literal["folder"] = "folder"
    path: Path
    done_path: Path | None = None  # processed inbound files move here; None deletes them
    patterns: list[str] = Field(default_factory=lambda: ["*"])
    stable_seconds: float = 2.0  # size unchanged this long => complete (writers that don't rename)
    filename_template: str = "{partner}_{kind}_{control_number}.{ext}"


class SftpTransport(_Frozen):
    """An SFTP server of the partner's that we poll (inbound) or push to (outbound)."""

    type: Literal["sftp"] = "sftp"
    host: str
    port: int = 22
    username: str
    key_path: Path | None = None
    key_passphrase_env: str | None = None
    password_env: str | None = None
    host_key: str | None = None  # "ssh-ed25519 AAAA..." pinned in the profile
    known_hosts: Path | None = None
    remote_paths: list[str] = Field(default_factory=lambda: ["."])
    patterns: list[str] = Field(default_factory=lambda: ["*"])
    ready_suffix: str | None = None  # partner's rename convention: only "*.ready" ... are complete
    temp_suffix: str = ".part"
    after_download: Literal["delete", "move"] = "delete"
    remote_done_path: str | None = None
    poll_interval_seconds: float = 60.0
    max_file_bytes: int = 256 * 1024 * 1024
    connect_timeout_seconds: float = 20.0
    failures_before_alert: int = 3
    filename_template: str = "{partner}_{kind}_{control_number}.{ext}"


class As2Transport(_Frozen):
    """An AS2 trading relationship (RFC 4130)."""

    type: Literal["as2"] = "as2"
    as2_id: str  # their AS2-From when they send, AS2-To when we send
    our_as2_id: str
    url: str | None = None
    their_signing_certs: list[Path] = Field(default_factory=list)
    their_encryption_cert: Path | None = None
    our_key: Path | None = None
    our_cert: Path | None = None
    our_key_password_env: str | None = None
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    require_signature: bool = True
    require_encryption: bool = True
    digest_algorithm: Literal["sha256", "sha384", "sha512", "sha1"] = "sha256"
    encryption_algorithm: Literal["aes128_cbc", "aes192_cbc", "aes256_cbc", "tripledes_cbc"] = "aes256_cbc"
    mdn_mode: Literal["sync", "async", "none"] = "sync"
    mdn_signed: bool = True
    async_mdn_url: str | None = None
    max_body_bytes: int = 50 * 1024 * 1024
    max_decompressed_bytes: int = 200 * 1024 * 1024


Transport = Annotated[FolderTransport | SftpTransport | As2Transport, Field(discriminator="type")]


class Sink(_Frozen):
    """Where canonical documents go on the ERP side."""

    type: Literal["json_folder", "webhook", "event_stream"] = "json_folder"
    path: Path | None = None
    url: str | None = None
    secret_env: str | None = None
    max_attempts: int = 8
    kinds: list[str] = Field(default_factory=lambda: ["purchase_order", "ship_notice", "invoice"])


class PartnerProfile(_Frozen):
    """Everything the gateway knows about one trading partner."""

    id: str
    name: str | None = None
    role: Literal["retailer", "3pl", "supplier", "carrier", "other"] = "other"
    x12: X12Identity | None = None
    aliases: list[X12Identity] = Field(default_factory=list)
    version: str = "004010"  # what we write to them
    delimiters: Delimiters = Delimiters()
    quirks: Quirks = Quirks()
    acks: AckPolicy = AckPolicy()
    dedup: DedupPolicy = DedupPolicy()
    inbound: list[Transport] = Field(default_factory=list)
    outbound: Transport | None = None
    sinks: list[Sink] = Field(default_factory=list)
    csv: CsvMapping | None = None
    hl_structure: Literal["SOPI", "SOTPI"] = "SOPI"
    invoice_on_ship: bool = False
    alert_emails: list[str] = Field(default_factory=list)
    usage_indicator: Literal["P", "T"] = "P"
    erp_outbound_path: Path | None = None  # our ERP drops ship notices/invoices for this partner here

    def identities(self) -> list[X12Identity]:
        """The X12 identities this partner sends under (primary first)."""
        return ([self.x12] if self.x12 else []) + list(self.aliases)
