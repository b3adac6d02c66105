"""One exception tree. Expected outcomes (a wrong answer, a spent token) are values, not errors.

Refusals carry an error code and one sentence for the requester, never an HTTP status: the one
place that maps them to HTTP, as JSON for the API and as a page for the console, is
`humangate/http_errors.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class HumanGateError(Exception):
    """Base class of every error HumanGate raises."""


class ConfigError(HumanGateError):
    """The configuration is invalid or insecure."""


class StorageError(HumanGateError):
    """The hot-state store or the database failed."""


class DatabaseUnavailable(StorageError):
    """The database did not answer in time: refused, timed out, lost, or its pool exhausted."""


class Refusal(HumanGateError):
    """A request refused, with an error code and one sentence the requester may read.

    `params` are the values the sentence names (an item, a name, a limit), so that a shell
    can say the same in its own words and language, by the code (the console does).
    """

    code = "refused"
    params: Mapping[str, object] = MappingProxyType({})

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if params:
            self.params = MappingProxyType(dict(params))


class InvalidInput(Refusal, ValueError):
    """The input is malformed or outside what is allowed; nothing was changed."""

    code = "bad-request"


class BadSiteverify(InvalidInput):
    """The request could not be read as siteverify fields."""

    def __init__(self, message: str = "The request is not valid siteverify fields.") -> None:
        super().__init__(message)


class NotFound(Refusal):
    """What the request names does not exist, or is not the requester's to see."""

    code = "not-found"


class Unauthenticated(Refusal):
    """The request does not prove who sent it: a missing, malformed, stale or wrong signature,
    an unknown key, or a nonce already used."""

    code = "unauthenticated"


class PaymentRequired(Refusal):
    """The owner's prepaid balance cannot pay for this (billing is on and it ran out)."""

    code = "insufficient-balance"


class AccessDenied(Refusal):
    """The requester may not do this (a network, an origin, a key or a role says no)."""

    code = "access-denied"


class EditionRequired(AccessDenied):
    """The owner's plan is of an edition without this feature (billing is on)."""

    code = "edition-required"


class Expired(Refusal):
    """What the request names expired or was already used."""

    code = "expired-or-used"


class RateLimited(Refusal):
    """Too many requests from one source in a window; `retry_after` seconds, when known."""

    code = "rate-limited"

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class LockedOut(RateLimited):
    """Too many failures from one source: refused until the window passes."""

    code = "locked-out"


class UpstreamUnavailable(HumanGateError):
    """A service HumanGate calls (an SMS gateway, a mail server, a carrier's gateway) failed or
    did not answer in time; `code` names which, for a 503. The text never carries credentials
    or the upstream's reply."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class LoginRequired(HumanGateError):
    """No valid console session: log in, then come back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class TermsRequired(HumanGateError):
    """The owner has not accepted the operator's current terms: show them, then `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path
