"""The query guard in front of every handler: words in any script pass, whether the client
percent-encoded them or sent raw UTF-8; control characters and endless values are refused."""

from __future__ import annotations

import asyncio

import pytest
from litestar.exceptions import ValidationException

from interfaces.http.app import QUERY_VALUE_MAX, PlainQuery


def passes(query: bytes) -> bool:
    reached = []

    async def app(scope, receive, send) -> None:
        reached.append(scope)

    async def nothing() -> dict:
        return {}

    asyncio.run(PlainQuery(app)({"type": "http", "query_string": query}, nothing, nothing))
    return bool(reached)


@pytest.mark.parametrize("query", ["text=机油滤芯".encode(), b"text=%E6%9C%BA%E6%B2%B9", b"name=Hefei+%C3%B2",
                                   b"", b"after=12&page=2"])
def test_plain_words_in_any_script_pass(query):
    assert passes(query)


@pytest.mark.parametrize("query", [b"serial=SY%00215", b"text=pump%1B%5B0m", "name=a\u0085b".encode(),
                                   b"text=" + b"A" * (QUERY_VALUE_MAX + 1)])
def test_control_characters_and_endless_values_are_refused(query):
    with pytest.raises(ValidationException):
        passes(query)
