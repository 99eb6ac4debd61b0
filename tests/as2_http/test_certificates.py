"""Certificate expiry alerts: one per certificate (by fingerprint), several certificates per partner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gateway.as2_service import check_certificates, fingerprint
from gateway.store import Store
from partners.profile import PartnerProfile

from .conftest import Party, as2_transport, make_config, make_party


def test_expiring_certificates_raise_one_alert_each(tmp_path: Path, us: Party, them: Party) -> None:
    now = dt.datetime.now(dt.UTC)
    old = make_party(tmp_path, "them-old", not_before=now - dt.timedelta(days=360), days=370)  # 10 days left
    gone = make_party(tmp_path, "them-gone", not_before=now - dt.timedelta(days=400), days=365)  # expired
    rollover = as2_transport(us, them, their_signing_certs=[old.cert_pem, them.cert_pem, gone.cert_pem])
    config = make_config(tmp_path, [PartnerProfile(id="acme", inbound=[rollover], outbound=rollover),
                                    PartnerProfile(id="beta", inbound=[as2_transport(us, them, as2_id="B")])])
    with Store.open(f"sqlite:///{tmp_path / 'gw.db'}", tmp_path / "archive") as store:
        found = check_certificates(config, store, now, within_days=30)
        assert {f.fingerprint for f in found} == {fingerprint(old.cert), fingerprint(gone.cert)}
        assert check_certificates(config, store, now, within_days=30) == found  # again: same alerts, repeated
        alerts = store.pending_alerts()
        assert sorted(a.kind for a in alerts) == ["as2.cert_expiring"] * 2
        assert all(a.repeats == 2 and a.partner_id == "acme" for a in alerts)
        assert any("expired" in a.subject for a in alerts) and any("expires in" in a.subject for a in alerts)
        assert check_certificates(config, store, now, within_days=1000)  # our and their current certs too


def test_unreadable_certificate_file_is_alerted(tmp_path: Path, us: Party, them: Party) -> None:
    missing = as2_transport(us, them, their_signing_certs=[tmp_path / "nope.pem"])
    config = make_config(tmp_path, [PartnerProfile(id="acme", inbound=[missing])])
    with Store.open(f"sqlite:///{tmp_path / 'gw.db'}", tmp_path / "archive") as store:
        assert check_certificates(config, store, dt.datetime.now(dt.UTC)) == []
        (alert,) = store.pending_alerts()
        assert alert.kind == "as2.keys_unreadable" and "nope.pem" in alert.body
