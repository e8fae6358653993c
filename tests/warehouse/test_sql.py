"""The parameter binder without an engine: one pass, typed casts, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.warehouse import bind, quote_literal, quote_string


def unquote(literal: str) -> str:
    """Parse a ClickHouse string literal the way the server does (the escapes we emit)."""
    assert literal[0] == literal[-1] == "'"
    escapes = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "b": "\b", "f": "\f"}
    out, body, i = [], literal[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            i += 1
            out.append(escapes.get(body[i], body[i]))
        else:
            assert char != "'", "an unescaped quote ends the literal early"
            out.append(char)
        i += 1
    return "".join(out)


@given(st.text())
def test_quote_string_round_trips(value: str) -> None:
    assert unquote(quote_string(value)) == value


def test_bind_is_one_pass() -> None:
    sql = bind("SELECT {a}, {b:String}", {"a": "{b:String}", "b": "x"})
    assert sql == "SELECT '{b:String}', CAST('x' AS String)"


def test_literals() -> None:
    assert quote_literal([1, "a"]) == "[1, 'a']"
    assert quote_literal(("a",)) == "('a')"
    assert quote_literal(None) == "NULL"
    assert quote_literal(True) == "1"
    assert quote_literal(float("-inf")) == "-inf"


def test_refusals() -> None:
    with pytest.raises(KeyError):
        bind("SELECT {missing}", {"other": 1})
    with pytest.raises(ValueError):
        bind("SELECT {a:String) FROM x; --}", {"a": 1})
    with pytest.raises(TypeError):
        quote_literal(object())
