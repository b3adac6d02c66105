"""One-time codes: format, keyed storage, expiry, attempts and single use, on both databases."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts._keys import AccountKeys
from humangate.accounts.codes import CodeCheck, Purpose, check_code, issue_code, new_code, read_code
from humangate.accounts.policy import AccountPolicy
from humangate.db import accounts as account_db
from humangate.db.models import AccountCode
from tests.accounts.conftest import SERVER_KEY, T0

KEYS = AccountKeys.derive(SERVER_KEY)
POLICY = AccountPolicy()
Sessions = async_sessionmaker[AsyncSession]


def test_new_codes_are_six_random_digits() -> None:
    codes = [new_code() for _ in range(2000)]
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(set(codes)) > 1900
    assert {code[0] for code in codes} == set("0123456789")  # leading zeros kept


@pytest.mark.parametrize(
    "typed, digits", [("123456", "123456"), (" 123 456 ", "123456"), ("012-345", "012345")]
)
def test_codes_are_read_as_typed(typed: str, digits: str) -> None:
    assert read_code(typed) == digits


@pytest.mark.parametrize(
    "typed", ["", "12345", "1234567", "abcdef", "１２３４５６", "1" * 30, "12 34 5x"]
)
def test_malformed_codes_are_bad_input(typed: str) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        read_code(typed)


def test_server_key_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        AccountKeys.derive(b"short")
    assert "k" not in repr(KEYS)


async def _account(sessions: Sessions) -> int:
    async with sessions() as session:
        account = await account_db.add_account(
            session,
            email="owner@example.com",
            email_key="owner@example.com",
            phone=None,
            password_hash="$argon2id$x",
            role="owner",
            status="active",
            now=T0,
        )
        await session.commit()
        return account.id


async def _issue(sessions: Sessions, account_id: int, purpose: Purpose = "login") -> str:
    async with sessions() as session:
        code = await issue_code(
            session,
            KEYS,
            POLICY,
            account_id=account_id,
            purpose=purpose,
            target="owner@example.com",
            now=T0,
        )
        await session.commit()
        return code


async def _check(
    sessions: Sessions,
    account_id: int,
    code: str,
    *,
    purpose: Purpose = "login",
    delay: timedelta = timedelta(),
) -> CodeCheck:
    async with sessions() as session:
        result = await check_code(
            session,
            KEYS,
            POLICY,
            account_id=account_id,
            purpose=purpose,
            code=code,
            now=T0 + delay,
        )
        await session.commit()
        return result


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_code_works_once(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id)
    assert await _check(sessions, account_id, code) == CodeCheck(True, "ok", "owner@example.com")
    assert await _check(sessions, account_id, code) == CodeCheck(False, "expired")


async def test_a_code_is_stored_as_a_keyed_digest(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id)
    async with sessions() as session:
        row = await session.scalar(select(AccountCode))
    assert row is not None and code not in (row.digest, row.target)
    assert row.digest != hashlib.sha256(code.encode()).hexdigest()
    assert row.digest == KEYS.code_digest(
        account_id=account_id, purpose="login", target="owner@example.com", code=code
    )
    other_keys = AccountKeys.derive(b"another-server-key-of-32-bytes!!")
    assert row.digest != other_keys.code_digest(
        account_id=account_id, purpose="login", target="owner@example.com", code=code
    )


async def test_a_code_answers_only_its_purpose(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id, "login")
    assert (await _check(sessions, account_id, code, purpose="cancel")).ok is False
    assert (await _check(sessions, account_id, code, purpose="login")).ok is True


async def test_a_code_expires_after_ten_minutes(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id)
    late = await _check(sessions, account_id, code, delay=timedelta(minutes=10))
    assert late == CodeCheck(False, "expired")
    assert (await _check(sessions, account_id, code, delay=timedelta(minutes=9, seconds=59))).ok


async def test_a_code_dies_after_five_entries(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id)
    reasons = [(await _check(sessions, account_id, _other(code))).reason for _ in range(5)]
    assert reasons == ["invalid"] * 4 + ["exhausted"]
    assert await _check(sessions, account_id, code) == CodeCheck(False, "expired")


async def test_a_new_code_kills_the_previous_one(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    first = await _issue(sessions, account_id)
    second = await _issue(sessions, account_id)
    if first != second:
        assert (await _check(sessions, account_id, first)).ok is False
    assert (await _check(sessions, account_id, second)).ok is True


async def test_concurrent_entries_cannot_exceed_the_attempt_limit(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id)
    results = await asyncio.gather(*(_check(sessions, account_id, _other(code)) for _ in range(8)))
    compared = [r for r in results if r.reason in ("invalid", "exhausted")]
    assert len(compared) == POLICY.code_max_attempts
    async with sessions() as session:
        row = await session.scalar(select(AccountCode))
    assert row is not None and row.attempts == POLICY.code_max_attempts


async def test_concurrent_right_entries_use_the_code_once(sessions: Sessions) -> None:
    account_id = await _account(sessions)
    code = await _issue(sessions, account_id)
    results = await asyncio.gather(*(_check(sessions, account_id, code) for _ in range(4)))
    assert [r.ok for r in results].count(True) == 1
