"""Prefixed, time-ordered ids."""

from __future__ import annotations

import re

import pytest

from creditflow.ids import new_id

_BODY = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")


@pytest.mark.parametrize("prefix", ["cus", "grt", "op", "hld", "key"])
def test_id_is_prefix_underscore_and_26_crockford_characters(prefix):
    value = new_id(prefix)
    head, _, body = value.partition("_")
    assert head == prefix
    assert _BODY.match(body), value
    assert len(value) == len(prefix) + 1 + 26


def test_ids_made_in_sequence_sort_in_creation_order():
    made = [new_id("op") for _ in range(5000)]
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def test_ids_with_different_prefixes_share_the_time_order():
    first, second = new_id("cus"), new_id("cus")
    assert first[4:] < second[4:]
