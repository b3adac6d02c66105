"""The sentences the console's pages show for the account core's outcomes, and the form limits
those pages share (sign-up, login, reset, profile, blocked owners, passkeys).

Every sentence is marked for the catalogue (`N_`, `Phrase`): pages translate it when rendered.
"""

from __future__ import annotations

from humangate.accounts import AccountBlocked, Locked, Throttled
from humangate.console._i18n import N_, Phrase

MAX_IDENTIFIER = 320
MAX_PASSWORD = 1024
PASSWORD_TOO_LONG = N_("The password is too long.")
WIDGET_FAILED = N_("The human verification did not pass. Complete it and send the form again.")
WRONG_CODE = N_("The code is wrong or has expired. Check it, or ask for a new one.")
RESENT = N_("If %(to)s is waiting for a code, a new one is on its way. Only the newest code works.")
BLOCKED = {
    "suspended": N_("This account is suspended."),
    "banned": N_("This account is banned."),
}


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up, at least 1."""
    return max(1, -(-seconds // 60))


def locked_message(outcome: Locked) -> str:
    return Phrase(
        "%(message)s (about %(minutes)s minutes)",
        message=Phrase(outcome.message),
        minutes=minutes(outcome.retry_after),
    )


def throttled_message(outcome: Throttled) -> str:
    return Phrase(
        "Too many codes were sent to this address or number. "
        "Ask again in about %(minutes)s minutes.",
        minutes=minutes(outcome.retry_after),
    )


def resend_wait_message(outcome: Throttled) -> str:
    """When a throttled resend may be asked for again, in seconds while that is under 2 minutes."""
    wait = outcome.retry_after
    if wait < 120:
        return Phrase(
            "A code was sent to this address or number a moment ago. "
            "Ask again in %(seconds)s seconds.",
            seconds=wait,
        )
    return Phrase(
        "A code was sent to this address or number a moment ago. "
        "Ask again in about %(minutes)s minutes.",
        minutes=minutes(wait),
    )


def blocked_message(outcome: AccountBlocked) -> str:
    known = BLOCKED.get(outcome.status)
    status = (
        Phrase(known) if known else Phrase("This account is %(status)s.", status=outcome.status)
    )
    if not outcome.reason:
        return status
    return Phrase(
        "%(blocked)s Reason given by the operator: %(reason)s",
        blocked=status,
        reason=outcome.reason,
    )
