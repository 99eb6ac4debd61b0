"""X12: delimiter sniffing, streaming tokenizer with envelope checks, transaction set readers and acks."""

from parsers.x12.acks import group_ack, interchange_ack, set_ack
from parsers.x12.readers import SetResult, read_ta1, read_transaction_set
from parsers.x12.stream import (
    EnvelopeRules,
    FileProblem,
    GroupEnd,
    GroupStart,
    InterchangeAckSegment,
    InterchangeEnd,
    InterchangeStart,
    TransactionSet,
    X12Event,
    iter_x12,
    read_x12,
)

__all__ = [
    "EnvelopeRules",
    "FileProblem",
    "GroupEnd",
    "GroupStart",
    "InterchangeAckSegment",
    "InterchangeEnd",
    "InterchangeStart",
    "SetResult",
    "TransactionSet",
    "X12Event",
    "group_ack",
    "interchange_ack",
    "iter_x12",
    "read_ta1",
    "read_transaction_set",
    "read_x12",
    "set_ack",
]
