"""Aggregate ids derived from natural keys (uuid5): deterministic, normalised,
and fixed forever, since every stored aggregate is found under its id."""

from __future__ import annotations

from uuid import UUID, uuid5

import pytest

from domain import ids
from tests.unit.given import ACTOR

HEFEI = ids.company_id("HF")


def test_the_namespace_and_the_derivation_are_fixed_forever():
    # Literal values: a change of namespace, kind name or separator orphans every stored aggregate.
    assert ids.IRONLEDGER_NAMESPACE == UUID("6f1c3d2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")
    assert HEFEI == UUID("8abe84de-6619-59ea-aa55-bab66c22258b") == uuid5(ids.IRONLEDGER_NAMESPACE, "company:HF")
    assert ids.warehouse_id(HEFEI, "MAIN") == UUID("41d1f0ad-f727-50ae-9533-8309b91c10ee")
    assert ids.machine_model_id("SY215C") == UUID("f8d929cc-256d-5586-ae84-4cf4998d70f0")
    assert ids.machine_unit_id("SY215C-0001") == UUID("5b3b43f4-2d4e-543f-9f9f-6afef090fa83")
    assert ids.user_id("admin") == UUID("e22ff57d-59c6-5fa2-b3b3-b94fc7dfd1fc")
    assert ids.position_id("Whole group") == UUID("b15f9518-926b-5d98-b506-d6e4ea9d6df6")
    assert ids.command_record_id(ACTOR, "key-1") == UUID("07bb6ba5-7e41-5a82-b584-484fc630169f")


def test_ids_are_name_based_uuid5_and_the_same_on_every_call():
    for derived in (ids.company_id("HF"), ids.machine_unit_id("SY-1"), ids.user_id("wang")):
        assert derived.version == 5
    assert ids.machine_unit_id("SY-1") == ids.machine_unit_id("SY-1")
    assert ids.machine_unit_id("SY-1") != ids.machine_unit_id("SY-2")


@pytest.mark.parametrize(("typed", "key"), [
    ("sy215c-01", "SY215C-01"),
    ("  SY215C-01  ", "SY215C-01"),
    ("sy 215c-01", "SY215C-01"),
    ("SY\t215C\n-01", "SY215C-01"),
    ("SY\u3000215C-01", "SY215C-01"),  # ideographic space, as typed on a Chinese keyboard
])
def test_a_key_compares_without_case_or_white_space(typed, key):
    assert ids.normalise_key(typed) == key
    assert ids.machine_unit_id(typed) == ids.machine_unit_id(key)
    assert ids.company_id(typed) == ids.company_id(key)
    assert ids.machine_model_id(typed) == ids.machine_model_id(key)


def test_a_key_keeps_its_punctuation():
    assert ids.normalise_key("sy-215/c.01") == "SY-215/C.01"
    assert ids.machine_unit_id("SY-21501") != ids.machine_unit_id("SY21501")


def test_the_same_key_of_different_kinds_gives_different_ids():
    assert len({ids.company_id("X1"), ids.machine_model_id("X1"), ids.machine_unit_id("X1"),
                ids.user_id("x1"), ids.position_id("x1"), ids.warehouse_id(HEFEI, "X1")}) == 6


def test_a_warehouse_code_is_unique_within_its_company_only():
    chuzhou = ids.company_id("CZ")
    assert ids.warehouse_id(HEFEI, "main") == ids.warehouse_id(HEFEI, " MAIN ")
    assert ids.warehouse_id(HEFEI, "MAIN") != ids.warehouse_id(chuzhou, "MAIN")


def test_user_and_position_names_compare_without_case_or_outer_spaces_but_keep_inner_ones():
    assert ids.user_id(" Wang.Wei ") == ids.user_id("wang.wei")
    assert ids.position_id(" Whole Group ") == ids.position_id("whole group")
    assert ids.position_id("whole group") != ids.position_id("wholegroup")


def test_an_idempotency_key_belongs_to_its_caller_and_is_taken_as_sent():
    other = ids.user_id("someone.else")
    assert ids.command_record_id(ACTOR, "key-1") == ids.command_record_id(ACTOR, "key-1")
    assert ids.command_record_id(other, "key-1") != ids.command_record_id(ACTOR, "key-1")
    assert ids.command_record_id(ACTOR, "Key-1") != ids.command_record_id(ACTOR, "key-1")  # opaque, not normalised
