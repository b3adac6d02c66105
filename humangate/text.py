"""Checks of untrusted text that every edge shares (core, no I/O).

A Python string can hold what no database, encoder or client library accepts: a NUL (refused by
PostgreSQL), a lone surrogate (refused by every UTF-8 encoder, so by hashing and by the drivers),
and JSON nested deeper than the parsers' recursion. Each is invalid input, refused where it
enters, so that nothing deeper has to expect it.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def is_clean_text(value: str) -> bool:
    """True when `value` holds no NUL and no lone surrogate (every other character is fine)."""
    if value.isascii():
        return "\x00" not in value
    return _UNSAFE.search(value) is None


def is_ascii_digits(value: str) -> bool:
    """True when `value` is one or more of the digits 0 to 9. `isdigit()` alone also says yes to
    "²", which `int()` refuses, and to other scripts' digits, which `int()` reads as numbers no
    form, header or signal of ours means."""
    return value.isascii() and value.isdigit()


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON in `body` nests arrays and objects more than `limit` deep.

    Counting brackets first keeps the common body (a few of them) to one pass in C; only a body
    with many brackets is scanned token by token, skipping brackets inside strings.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for token in _TOKENS.finditer(body):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False
