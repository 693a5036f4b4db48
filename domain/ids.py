"""Aggregate ids derived from natural keys.

A serial number, a company code or a user name exists once in the group.
Deriving the aggregate id from the key (uuid5) makes a second creation collide
on the event store's primary key (originator id, version 1): uniqueness holds
even when two processes create the same key at the same instant, with no
separate index to keep in step.
"""

from __future__ import annotations

import re
from uuid import UUID, uuid5

# Fixed forever: changing it would orphan every stored aggregate.
IRONLEDGER_NAMESPACE = UUID("6f1c3d2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")

_SPACES = re.compile(r"\s+")


def normalise_key(value: str) -> str:
    """Keys compare without case or inner/outer white space: 'sy 215c-01' == 'SY215C-01'."""
    return _SPACES.sub("", value).upper()


def _id(kind: str, *parts: str) -> UUID:
    return uuid5(IRONLEDGER_NAMESPACE, kind + ":" + "/".join(parts))


def company_id(code: str) -> UUID:
    return _id("company", normalise_key(code))


def warehouse_id(company: UUID, code: str) -> UUID:
    return _id("warehouse", str(company), normalise_key(code))


def machine_model_id(code: str) -> UUID:
    return _id("machine-model", normalise_key(code))


def machine_unit_id(serial_number: str) -> UUID:
    return _id("machine-unit", normalise_key(serial_number))


def user_id(username: str) -> UUID:
    return _id("user", username.strip().lower())


def position_id(name: str) -> UUID:
    return _id("position", name.strip().lower())


def command_record_id(actor: UUID, idempotency_key: str) -> UUID:
    return _id("command", str(actor), idempotency_key)


def approval_rule_id(document_type: str, company: UUID | None) -> UUID:
    return _id("approval-rule", str(document_type), str(company) if company else "group")


def customer_type_id(code: str) -> UUID:
    return _id("customer-type", normalise_key(code))


def customer_tag_id(code: str) -> UUID:
    return _id("customer-tag", normalise_key(code))


def debt_id(contract: UUID) -> UUID:
    """One receivable per contract: re-approval reopens the same one."""
    return _id("debt", str(contract))


def penalty_policy_id(company: UUID) -> UUID:
    return _id("penalty-policy", str(company))


def coupon_id(code: str) -> UUID:
    """A coupon code is unique in the group: the id is the code's."""
    return _id("coupon", normalise_key(code))


def part_id(part_no: str) -> UUID:
    """A part number exists once in the catalogue."""
    return _id("part", normalise_key(part_no))


def part_stock_id(part: UUID, warehouse: UUID) -> UUID:
    """One stock record per part and warehouse."""
    return _id("part-stock", str(part), str(warehouse))
