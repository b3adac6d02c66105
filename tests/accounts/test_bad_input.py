"""Bad input raises InvalidInput (a ValueError, code "bad-request") with a sentence, before
anything is written or counted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from humangate import accounts as svc
from humangate.accounts import (
    CodeSent,
    StepUpRequired,
    confirm_cancellation,
    confirm_contact_change,
    create_admin,
    request_contact_change,
    update_profile,
)
from humangate.errors import InvalidInput
from humangate.store import MemoryStore
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness

NAIVE = datetime(2026, 3, 2, 9, 0)
Call = Callable[[Harness, int], Awaitable[Any]]


def _cases() -> list[tuple[str, Call, str]]:
    def run(fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Call:
        async def call(h: Harness, account_id: int) -> Any:
            resolved = [account_id if a == "ME" else a for a in args]
            return await h.run(fn, *resolved, **kwargs)

        return call

    login = {"client": BROWSER, "now": T0}
    return [
        ("sign-up bad e-mail", run(svc.sign_up, "a@b@", PASSWORD, **login), "domain after"),
        ("sign-up bad phone", run(svc.sign_up, "+1 555", PASSWORD, **login), "too short"),
        (
            "sign-up short password",
            run(svc.sign_up, "n@example.com", "short", **login),
            "at least 10",
        ),
        (
            "sign-up common password",
            run(svc.sign_up, "n@example.com", "1234567890", **login),
            "common",
        ),
        (
            "sign-up naive time",
            run(svc.sign_up, "n@example.com", PASSWORD, client=BROWSER, now=NAIVE),
            "timezone-aware",
        ),
        (
            "confirm bad code",
            run(svc.confirm_sign_up, "owner@example.com", "12", **login),
            "6 digits",
        ),
        ("login bad identifier", run(svc.log_in, "owner@", PASSWORD, **login), "name before"),
        (
            "login huge password",
            run(svc.log_in, "owner@example.com", "x" * 300, **login),
            "at most 256",
        ),
        (
            "code request bad identifier",
            run(svc.request_login_code, "??", **login),
            "may only hold",
        ),
        (
            "code login bad code",
            run(svc.log_in_with_code, "owner@example.com", "abcdef", **login),
            "6 digits",
        ),
        ("step-up bad code", run(svc.complete_step_up, "token", "1", **login), "6 digits"),
        (
            "contact change bad phone",
            run(request_contact_change, "ME", "+86 1", PASSWORD, **login),
            "phone",
        ),
        ("contact change bad code", run(confirm_contact_change, "ME", "x", **login), "6 digits"),
        ("cancel bad code", run(confirm_cancellation, "ME", "1234567", **login), "6 digits"),
        ("cancel unknown account", run(confirm_cancellation, 999, "123456", **login), "No account"),
        (
            "profile unknown account",
            run(update_profile, 999, display_name="x", **login),
            "No account",
        ),
        (
            "admin bad password",
            run(create_admin, "root@example.com", "qwertyuiop", now=T0),
            "common",
        ),
    ]


@pytest.mark.parametrize("name, call, message", _cases(), ids=[c[0] for c in _cases()])
async def test_bad_input_changes_nothing(
    accounts: Harness, name: str, call: Call, message: str
) -> None:
    owner = await accounts.signed_up()
    store: Any = accounts.ctx.store
    before = await accounts.snapshot()
    counters = dict(store._values) if isinstance(store, MemoryStore) else None
    with pytest.raises(ValueError, match=message) as raised:
        await call(accounts, owner.account.id)
    assert isinstance(raised.value, InvalidInput) and raised.value.code == "bad-request"
    assert await accounts.snapshot() == before
    if counters is not None:
        assert dict(store._values) == counters
    # Nothing was counted either: the very next good request is served.
    sent = await accounts.run(svc.request_login_code, "owner@example.com", client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    step = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(step, StepUpRequired)
