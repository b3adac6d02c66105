"""What every message channel shares: the two message kinds, the two sender protocols, one error.

The console and the one-time-code API depend on these names only, never on a transport, so a
deployment can switch from the development outbox to SMTP or an SMS provider by configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from humangate.errors import HumanGateError, InvalidInput

Channel = Literal["mail", "sms"]

# E.164: a plus sign and at most 15 digits, the first not 0. Whether the number exists or which
# carrier serves it is the one-time-code API's business (phonenumbers), not the transport's.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# A deliberately loose address check: one @, no whitespace or angle brackets. It exists to stop
# header injection and obvious mistakes; real validation is a confirmation code.
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")
_MAX_ADDRESS = 254
_MAX_SUBJECT = 250


def _has_line_break(value: str) -> bool:
    return any(ch in value for ch in "\r\n\x00")


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One e-mail to one recipient: a plain-text body and an optional HTML alternative.

    Raises:
        InvalidInput: the address is not one address, or the subject spans lines (both would
            let input inject headers).
    """

    to: str
    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        if len(self.to) > _MAX_ADDRESS or not _ADDRESS.fullmatch(self.to):
            raise InvalidInput("The recipient must be a single e-mail address.")
        if _has_line_break(self.subject) or len(self.subject) > _MAX_SUBJECT:
            raise InvalidInput("The subject must be one line of at most 250 characters.")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One text message to one phone number in E.164 form (`+8613800138000`).

    Raises:
        InvalidInput: the number is not in E.164 form, or the text is empty.
    """

    to: str
    text: str

    def __post_init__(self) -> None:
        if not _E164.fullmatch(self.to):
            raise InvalidInput("The phone number must be in E.164 form, like +8613800138000.")
        if not self.text.strip():
            raise InvalidInput("A text message needs some text.")


@runtime_checkable
class Mailer(Protocol):
    """Sends e-mail; returns the message id (the Message-ID header, or the outbox's id)."""

    async def send(self, message: EmailMessage) -> str: ...


@runtime_checkable
class SmsGateway(Protocol):
    """Sends text messages; returns the provider's message id (or a local one)."""

    async def send(self, message: SmsMessage) -> str: ...


class DeliveryError(HumanGateError):
    """A message could not be handed to the mail server or SMS provider.

    The text names the channel, the server (host and port only) and what went wrong in our own
    words. It never carries credentials, URL paths or queries, or the server's reply text, which
    may echo what was sent; the reply's status code is kept in `status` for callers that decide
    on retries. `temporary` says whether trying again later may succeed.
    """

    def __init__(
        self, message: str, *, channel: Channel, temporary: bool, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.channel: Channel = channel
        self.temporary = temporary
        self.status = status
