"""Acknowledgment reconciliation: a partner's 997/999/TA1 matched to what we sent them; overdue acks.

Rules:
- We match by partner + GS06 (AK102) + ST02 (AK202); control numbers are compared as numbers, so a
  partner that pads (``000000012``) or strips zeros still matches. A TA1 matches by ISA13 (TA101).
- In a 997/999 a set without its own AK2 loop takes the group's AK9 status (accepted sets are often
  left out). AK5/IK5 A -> accepted, E -> accepted_with_errors, anything else -> rejected.
- A TA1 that rejects (R) rejects every set of that interchange; a TA1 that accepts only says the
  envelope arrived: the 997 is still expected.
- Each expectation is resolved once (the store refuses a second resolution); the outbound document
  follows (accepted / rejected) and a rejection raises ONE alert naming partner, document, segment
  and reason in words, what to do, and the trace id. All of it commits together.
- An ack that matches nothing we sent is an alert, never an error for the inbound file.
- Overdue: expectations still pending after ``due_at`` become ``overdue`` once (compare-and-set in
  the store) and raise one alert each; a late ack still resolves them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gateway.config import GatewayConfig
from gateway.store import AckExpectation, Store
from parsers.canonical import AckStatus, FunctionalAck, GroupAck, SegmentNote, TransactionSetAck
from partners.directory import PartnerDirectory
from partners.profile import PartnerProfile

log = logging.getLogger(__name__)

# AK304 / IK304: segment syntax error codes
SEGMENT_ERRORS: dict[str, str] = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}

# AK403 / IK403: data element error codes ({element} is replaced by e.g. N102)
ELEMENT_ERRORS: dict[str, str] = {
    "1": "mandatory data element {element} missing",
    "2": "conditional required data element {element} missing",
    "3": "too many data elements",
    "4": "data element {element} too short",
    "5": "data element {element} too long",
    "6": "invalid character in data element {element}",
    "7": "invalid code value in data element {element}",
    "8": "invalid date in data element {element}",
    "9": "invalid time in data element {element}",
    "10": "exclusion condition violated by data element {element}",
    "12": "too many repetitions of data element {element}",
    "13": "too many components in data element {element}",
    "I6": "code value of data element {element} not used in this implementation",
    "I9": "implementation dependent data element {element} missing",
    "I10": "implementation 'not used' data element {element} present",
    "I11": "implementation too few repetitions of data element {element}",
    "I12": "implementation pattern match failure in data element {element}",
    "I13": "implementation dependent 'not used' data element {element} present",
}

# AK502..AK506 / IK502..: transaction set error codes
SET_ERRORS: dict[str, str] = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "8": "authentication key name unknown",
    "9": "encryption key name unknown",
    "10": "requested service (authentication or encryption) not available",
    "11": "unknown security recipient",
    "12": "incorrect message length (encryption only)",
    "13": "message authentication code failed",
    "15": "unknown security originator",
    "16": "syntax error in decrypted text",
    "17": "security not supported",
    "18": "transaction set not in functional group",
    "19": "invalid transaction set implementation convention reference",
    "23": "transaction set control number not unique within the functional group",
    "24": "S3E security end segment missing for S3S security start segment",
    "25": "S3S security start segment missing for S3E security end segment",
    "26": "S4E security end segment missing for S4S security start segment",
    "27": "S4S security start segment missing for S4E security end segment",
    "I5": "implementation one or more segments in error",
    "I6": "implementation convention not supported",
}

# AK905..: functional group error codes
GROUP_ERRORS: dict[str, str] = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in the header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
    "10": "authentication key name unknown",
    "11": "encryption key name unknown",
    "12": "requested service (authentication or encryption) not available",
    "13": "unknown security recipient",
    "14": "unknown security originator",
    "15": "syntax error in decrypted text",
    "16": "security not supported",
    "17": "incorrect message length (encryption only)",
    "18": "message authentication code failed",
    "19": "functional group control number not unique within interchange",
    "23": "S3E security end segment missing for S3S security start segment",
    "24": "S3S security start segment missing for S3E security end segment",
    "25": "S4E security end segment missing for S4S security start segment",
    "26": "S4S security start segment missing for S4E security end segment",
}

# TA105: interchange note codes
TA1_NOTES: dict[str, str] = {
    "000": "no error", "001": "the interchange control numbers in the header and trailer do not match",
    "002": "this standard as noted in the control standards identifier is not supported",
    "003": "this version of the controls is not supported", "004": "the segment terminator is invalid",
    "005": "invalid interchange ID qualifier for sender", "006": "invalid interchange sender ID",
    "007": "invalid interchange ID qualifier for receiver", "008": "invalid interchange receiver ID",
    "009": "unknown interchange receiver ID", "010": "invalid authorization information qualifier value",
    "011": "invalid authorization information value", "012": "invalid security information qualifier value",
    "013": "invalid security information value", "014": "invalid interchange date value",
    "015": "invalid interchange time value", "016": "invalid interchange standards identifier value",
    "017": "invalid interchange version ID value", "018": "invalid interchange control number value",
    "019": "invalid acknowledgment requested value", "020": "invalid test indicator value",
    "021": "invalid number of included groups value", "022": "invalid control structure",
    "023": "improper (premature) end-of-file (transmission)",
    "024": "invalid interchange content (e.g., invalid GS segment)", "025": "duplicate interchange control number",
    "026": "invalid data element separator", "027": "invalid component element separator",
    "028": "invalid delivery date in deferred delivery request",
    "029": "invalid delivery time in deferred delivery request",
    "030": "invalid delivery time code in deferred delivery request", "031": "invalid grade of service code",
}

_STATUS_WORDS = {
    AckStatus.ACCEPTED: "accepted", AckStatus.ACCEPTED_WITH_ERRORS: "accepted_with_errors",
    AckStatus.PARTIALLY_ACCEPTED: "accepted",  # a set not listed in a partially accepted group was accepted
}
_WHAT = {"ship_notice": "ship notice (ASN)", "invoice": "invoice", "purchase_order": "purchase order"}


def _number(value: str | None) -> str:
    """A control number as compared: digits without leading zeros; anything else as sent, stripped."""
    text = (value or "").strip()
    return str(int(text)) if text.isdigit() else text


def describe_segment_note(note: SegmentNote, ack_type: str = "997") -> list[str]:
    """A segment error (AK3/AK4 or IK3/IK4) in words, one line per problem:
    ``segment N1 at position 5: mandatory data element N102 missing (AK4 code 1)``."""
    seg_tag, el_tag = ("IK3", "IK4") if ack_type == "999" else ("AK3", "AK4")
    where = f"segment {note.segment_id} at position {note.position}"
    loop = [f"loop {note.loop_id}"] if note.loop_id else []
    lines = []
    for el in note.elements:
        element = f"{note.segment_id}{el.position:02d}"
        if el.component_position:
            element += f"-{el.component_position}"
        text = ELEMENT_ERRORS.get(el.error_code, "data element {element} error").format(element=element)
        if el.bad_value:
            text += f", value {el.bad_value!r}"
        extra = [f"data element {el.reference_number}"] if el.reference_number else []
        lines.append(f"{where}: {text} ({'; '.join([f'{el_tag} code {el.error_code}', *extra, *loop])})")
    if note.error_code and (note.error_code != "8" or not note.elements):
        lines.append(f"{where}: {SEGMENT_ERRORS.get(note.error_code, 'segment error')} "
                     f"({'; '.join([f'{seg_tag} code {note.error_code}', *loop])})")
    if not lines:
        lines.append(f"{where}: reported in error (no code given)")
    return lines


def describe_set_ack(tx: TransactionSetAck | None, group: GroupAck, ack_type: str) -> list[str]:
    """Everything a 997/999 says about one transaction set (or its group), in words."""
    lines: list[str] = []
    if tx is not None:
        for note in tx.segments:
            lines.extend(describe_segment_note(note, ack_type))
        tag = "IK5" if ack_type == "999" else "AK5"
        lines.extend(f"transaction set: {SET_ERRORS.get(code, 'error')} ({tag} code {code})"
                     for code in tx.error_codes)
    lines.extend(f"functional group: {GROUP_ERRORS.get(code, 'error')} (AK9 code {code})"
                 for code in group.error_codes)
    return lines


@dataclass
class AckMatch:
    """One expected acknowledgment resolved by an inbound ack."""

    expectation_id: int
    document_id: str | None
    status: str  # accepted | accepted_with_errors | rejected
    reasons: list[str]


@dataclass
class AckView:
    """An expected acknowledgment with its outbound document, for `gateway acks` and the trace."""

    partner_id: str
    document_id: str | None
    kind: str | None
    business_key: str | None
    isa13: str
    gs06: str
    st02: str
    sent_at: dt.datetime
    due_at: dt.datetime
    status: str
    detail: str | None

    def line(self) -> str:
        """One line for a terminal."""
        what = f"{self.kind or '?'} {self.business_key or ''}".strip()
        return (f"{self.partner_id:<16} {what:<28} ISA13 {self.isa13} GS06 {self.gs06:>5} ST02 {self.st02}  "
                f"sent {self.sent_at:%Y-%m-%d %H:%M}  due {self.due_at:%Y-%m-%d %H:%M}  {self.status:<20} "
                f"{self.document_id or '-'}" + (f"  {self.detail[:120]}" if self.detail else ""))


class Reconciler:
    """Matches inbound acknowledgments to expected ones and watches for overdue ones."""

    def __init__(self, cfg: GatewayConfig, store: Store, directory: PartnerDirectory | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.directory = directory or PartnerDirectory(cfg.partners)

    def __call__(self, partner: PartnerProfile, document_id: str, document: BaseModel) -> None:
        """Pipeline ``on_accepted`` hook: reconcile every accepted inbound 997/999/TA1."""
        if isinstance(document, FunctionalAck):
            self.reconcile(partner, document_id, document)

    # ------------------------------------------------------------------ matching

    def reconcile(self, partner: PartnerProfile, ack_document_id: str, ack: FunctionalAck) -> list[AckMatch]:
        """Resolve what this ack answers; returns the expectations it resolved (none on a re-run)."""
        matches: list[AckMatch] = []
        unmatched: list[str] = []
        with self.store.transaction():
            for group in ack.groups:
                found = self._reconcile_group(partner, ack_document_id, ack.ack_type, group, matches)
                if not found:
                    unmatched.append(f"{group.functional_id_code} group {group.group_control_number}")
            for ta1 in ack.interchange_acks:
                isa13 = _number(ta1.control_number)
                isa13 = f"{int(isa13):09d}" if isa13.isdigit() else isa13  # we store ISA13 as written: 9 digits
                expectations = self.store.find_acks_expected(partner_id=partner.id, isa13=isa13)
                if not expectations:
                    unmatched.append(f"interchange {ta1.control_number}")
                    continue
                if ta1.status is not AckStatus.REJECTED:
                    continue  # the envelope arrived; the 997 is still to come
                reason = (f"interchange {ta1.control_number} rejected: {TA1_NOTES.get(ta1.note_code, 'error')} "
                          f"(TA1 note code {ta1.note_code})")
                for exp in expectations:
                    self._resolve(partner, ack_document_id, exp, "rejected", [reason], matches)
            if unmatched:
                self.store.add_alert(
                    "ack.unmatched", f"{partner.id} acknowledged something we did not send",
                    f"Partner {partner.id} sent a {ack.ack_type} for {', '.join(unmatched)}, which matches no "
                    f"interchange, group or transaction set we sent them (or it was already acknowledged).\n"
                    f"Trace: gateway trace {ack_document_id}\n"
                    "What to do: check the control numbers with the partner; nothing was changed.",
                    partner_id=partner.id, dedup_key=f"ack.unmatched:{ack_document_id}")
        return matches

    def _reconcile_group(self, partner: PartnerProfile, ack_document_id: str, ack_type: str, group: GroupAck,
                         matches: list[AckMatch]) -> bool:
        """Resolve the expectations of one acknowledged group; False when we sent no such group."""
        expectations = self.store.find_acks_expected(partner_id=partner.id, gs06=_number(group.group_control_number))
        if not expectations:
            return False
        by_st02 = {_number(tx.control_number): tx for tx in group.transaction_sets}
        for exp in expectations:
            tx = by_st02.get(_number(exp.st02))
            status_code = tx.status if tx is not None else group.status
            status = _STATUS_WORDS.get(status_code, "rejected")
            reasons = describe_set_ack(tx, group, ack_type) if status != "accepted" or tx is not None else []
            if status == "rejected" and not reasons:
                reasons = [f"the {ack_type} rejected it without a reason (AK5/AK9 {status_code.value})"]
            self._resolve(partner, ack_document_id, exp, status, reasons, matches)
        return True

    def _resolve(self, partner: PartnerProfile, ack_document_id: str, exp: AckExpectation, status: str,
                 reasons: list[str], matches: list[AckMatch]) -> None:
        detail = "; ".join(reasons)[:2000] or None
        if not self.store.resolve_ack(exp.partner_id, exp.isa13, exp.gs06, exp.st02, status, detail):
            return  # answered before (a re-sent ack, or a re-run after a crash)
        matches.append(AckMatch(exp.id, exp.document_id, status, reasons))
        if exp.document_id is None:
            return
        doc_state = "rejected" if status == "rejected" else "accepted"
        self.store.set_document_state(exp.document_id, doc_state, expect=("sent", "queued", "overdue"),
                                      detail={"ack": status, "ack_document_id": ack_document_id,
                                              "reasons": reasons[:10]})
        if status != "rejected":
            return
        doc = self.store.get_document(exp.document_id)
        what = _WHAT.get(doc.kind, doc.kind) if doc else "document"
        number = doc.business_key if doc else "?"
        reason_lines = "\n".join(f"  - {r}" for r in reasons) or "  - (no reason given)"
        self.store.add_alert(
            "ack.rejected", f"{partner.id} rejected our {what} {number}",
            f"Partner {partner.id} rejected our {what} {number} (ISA13 {exp.isa13}, GS06 {exp.gs06}, "
            f"ST02 {exp.st02}, sent {exp.sent_at:%Y-%m-%d %H:%M} UTC):\n{reason_lines}\n"
            f"Trace: gateway trace {exp.document_id} (their acknowledgment: gateway trace {ack_document_id})\n"
            f"What to do: correct the {what} in the ERP (or the partner's profile for envelope problems) and "
            "send it again as a replacement; the partner has not booked it.",
            partner_id=partner.id, dedup_key=f"ack.rejected:{exp.id}")

    # ------------------------------------------------------------------ overdue

    def check_overdue(self, limit: int = 1000) -> int:
        """Mark expectations past their due time overdue (once each) and alert; returns how many."""
        count = 0
        for exp in self.store.overdue_acks(limit=limit):
            with self.store.transaction():
                if not self.store.mark_ack_overdue(exp.id, f"no acknowledgment by {exp.due_at:%Y-%m-%d %H:%M} UTC"):
                    continue  # another worker got it first
                count += 1
                doc = self.store.get_document(exp.document_id) if exp.document_id else None
                if doc is not None:
                    self.store.set_document_state(doc.id, "overdue", expect=("sent", "queued"),
                                                  detail={"due_at": exp.due_at.isoformat()})
                what = f"{_WHAT.get(doc.kind, doc.kind)} {doc.business_key}" if doc else "interchange"
                partner = self.directory.get(exp.partner_id)
                hours = partner.acks.expect_ack_within_hours if partner else None
                self.store.add_alert(
                    "ack.overdue", f"No acknowledgment from {exp.partner_id} for our {what}",
                    f"We sent {exp.partner_id} our {what} (ISA13 {exp.isa13}, GS06 {exp.gs06}, ST02 {exp.st02}) "
                    f"at {exp.sent_at:%Y-%m-%d %H:%M} UTC; their functional acknowledgment was due by "
                    f"{exp.due_at:%Y-%m-%d %H:%M} UTC" + (f" ({hours:g} hours)" if hours is not None else "")
                    + " and has not arrived.\n"
                    f"Trace: gateway trace {exp.document_id or exp.isa13}\n"
                    "What to do: ask the partner whether they received the interchange; if not, check our "
                    "outbound transport and replay it. A late acknowledgment still reconciles it.",
                    partner_id=exp.partner_id, dedup_key=f"ack.overdue:{exp.id}")
        return count

    # ------------------------------------------------------------------ listing

    def list_acks(self, *, partner_id: str | None = None, overdue: bool = False, limit: int = 1000) -> list[AckView]:
        """Expected acknowledgments with their documents (``overdue``: overdue ones and pending past due)."""
        statuses = ("overdue", "pending") if overdue else None
        now = self.store.now()
        views = []
        for exp in self.store.find_acks_expected(partner_id=partner_id, status=statuses, limit=limit):
            if overdue and exp.status == "pending" and exp.due_at > now:
                continue
            doc = self.store.get_document(exp.document_id) if exp.document_id else None
            views.append(AckView(exp.partner_id, exp.document_id, doc.kind if doc else None,
                                 doc.business_key if doc else None, exp.isa13, exp.gs06, exp.st02, exp.sent_at,
                                 exp.due_at, exp.status, exp.detail))
        return views


def ack_rows_for(store: Store, document_id: str) -> list[dict[str, Any]]:
    """The expected-ack rows of an outbound document, for `gateway trace`."""
    return [{"status": e.status, "isa13": e.isa13, "gs06": e.gs06, "st02": e.st02, "due_at": e.due_at,
             "detail": e.detail} for e in store.find_acks_expected(document_id=document_id)]
