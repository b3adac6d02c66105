"""The password policy and argon2id hashing, at production parameters once."""

from __future__ import annotations

import time

import pytest

from humangate.accounts.identifiers import parse_email
from humangate.accounts.passwords import (
    PRODUCTION_PARAMS,
    TEST_PARAMS,
    HashParams,
    PasswordHasher,
    check_password,
)


@pytest.mark.parametrize(
    "password, message",
    [
        ("short", "at least 10"),
        ("p" * 257, "at most 256"),
        ("aaaaaaaaaaaa", "too few characters"),
        ("abababababab", "too few characters"),
        ("1234567890", "most common"),
        ("QwertyUiop", "most common"),
        ("Password2024!", "most common"),
        ("iloveyou12345", "most common"),
        ("owner@example.com", "must not be your"),
        ("Owner@Example.com", "must not be your"),
    ],
)
def test_policy_refuses(password: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_password(password, identifier=parse_email("owner@example.com"))


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "Tr0ub4dor&3xyz", "密码很长而且不常见的句子", "abcd" * 64],
)
def test_policy_accepts(password: str) -> None:
    check_password(password, identifier=parse_email("owner@example.com"))


def test_passwords_are_nfkc_normalised() -> None:
    hasher = PasswordHasher(TEST_PARAMS)
    hashed = hasher.hash("ｆｕｌｌｗｉｄｔｈ password")  # full-width letters
    assert hasher.verify(hashed, "fullwidth password")
    assert not hasher.verify(hashed, "fullwidth passwore")


def test_malformed_hashes_never_match() -> None:
    hasher = PasswordHasher(TEST_PARAMS)
    for hashed in ("", "$argon2id$garbage", "plain text"):
        assert hasher.verify(hashed, "anything at all") is False
        assert hasher.needs_rehash(hashed) is True


def test_rehash_when_parameters_change() -> None:
    old = PasswordHasher(TEST_PARAMS)
    new = PasswordHasher(HashParams(time_cost=2, memory_cost=512, parallelism=1))
    hashed = old.hash("correct horse battery")
    assert not old.needs_rehash(hashed)
    assert new.needs_rehash(hashed)
    assert new.verify(hashed, "correct horse battery")  # old hashes keep working
    assert not new.needs_rehash(new.hash("correct horse battery"))


def test_dummy_verification_spends_a_real_verify() -> None:
    hasher = PasswordHasher(TEST_PARAMS)
    assert hasher.dummy_hash.startswith("$argon2id$")
    assert hasher.dummy_hash == hasher.dummy_hash  # made once
    assert hasher.verify_dummy("anything") is False


def test_production_parameters() -> None:
    """The one test at full cost: argon2id, 64 MiB, 2 passes, 1 lane."""
    hasher = PasswordHasher()
    assert hasher.params == PRODUCTION_PARAMS
    started = time.perf_counter()
    hashed = hasher.hash("correct horse battery")
    elapsed = time.perf_counter() - started
    assert hashed.startswith("$argon2id$v=19$m=65536,t=2,p=1$")
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "correct horse batterz")
    assert not hasher.needs_rehash(hashed)
    # Slow enough to hurt guessing, fast enough for a login (0.19 s on the reference machine).
    assert 0.02 < elapsed < 5.0
