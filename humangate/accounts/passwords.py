"""Console passwords: the policy, and argon2id hashing with rehash-on-login.

The parameters and the hash time they cost on the reference machine are justified in
docs/decisions/0004-accounts.md. Passwords are NFKC-normalised before they are checked or
hashed, so one password typed on two keyboards gives one hash.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from humangate.accounts.identifiers import Identifier
from humangate.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256


@dataclass(frozen=True, slots=True)
class HashParams:
    """argon2id cost parameters; `memory_cost` is in KiB."""

    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


# 64 MiB, 2 passes, 1 lane: about 0.19 s on one core of the reference machine (see 0004).
PRODUCTION_PARAMS = HashParams(time_cost=2, memory_cost=64 * 1024, parallelism=1)
# For tests only: the same algorithm at a cost that keeps the suite fast.
TEST_PARAMS = HashParams(time_cost=1, memory_cost=256, parallelism=1)


class PasswordHasher:
    """argon2id hashing. CPU-bound: async callers run it in a worker thread."""

    def __init__(self, params: HashParams = PRODUCTION_PARAMS) -> None:
        self.params = params
        self._argon2 = _Argon2(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=Type.ID,
        )
        self._dummy: str | None = None

    @property
    def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters, made once per hasher."""
        if self._dummy is None:
            self._dummy = self._argon2.hash(secrets.token_urlsafe(24))
        return self._dummy

    def hash(self, password: str) -> str:
        return self._argon2.hash(normalise_password(password))

    def verify(self, hashed: str, password: str) -> bool:
        """Whether `password` matches `hashed`; a malformed hash never matches."""
        try:
            return self._argon2.verify(hashed, normalise_password(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> bool:
        """Spend one verification on a hash no account has, so that an unknown identifier takes
        as long to refuse as a wrong password. Always False."""
        self.verify(self.dummy_hash, password)
        return False

    def needs_rehash(self, hashed: str) -> bool:
        """Whether `hashed` was made with other parameters than this hasher's."""
        try:
            return self._argon2.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True


def normalise_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, identifier: Identifier | None = None) -> None:
    """Refuse a password that is too short, too long, common or trivially guessable.

    Raises:
        InvalidInput: with a sentence the console can show as it is.
    """
    if not isinstance(password, str):
        raise InvalidInput("A password must be text.")
    check_password_length(password)
    text = normalise_password(password)
    if len(text) < MIN_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_LENGTH} characters.")
    folded = text.casefold()
    if len(set(folded)) < 4:
        raise InvalidInput("The password repeats too few characters; choose a longer phrase.")
    if folded in COMMON_PASSWORDS or _COMMON_TAIL.sub("", folded) in COMMON_STEMS:
        raise InvalidInput("This password is one of the most common ones; choose another.")
    if identifier is not None and folded in {identifier.key.casefold(), _local(identifier)}:
        raise InvalidInput("The password must not be your e-mail address or phone number.")


def check_password_length(password: str) -> None:
    """Raises InvalidInput beyond MAX_LENGTH: argon2 would hash anything, at any cost."""
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"A password has at most {MAX_LENGTH} characters.")


def _local(identifier: Identifier) -> str:
    return identifier.key.split("@", 1)[0].casefold().lstrip("+")


_COMMON_TAIL = re.compile(r"[0-9!@#$%^&*.?_\-]+$")

# Bases that common passwords decorate with digits or symbols ("Password2024!", "qwerty12345").
COMMON_STEMS = frozenset(
    """password passw0rd p@ssw0rd p@ssword qwerty qwertyuiop qwertz azerty asdfgh asdfghjkl
    zxcvbnm zxcvbnm, 1q2w3e4r 1q2w3e4r5t qazwsx qazwsxedc iloveyou letmein welcome admin
    administrator monkey dragon football baseball sunshine princess superman batman starwars
    trustno1 master shadow michael jennifer abc abcdef abcdefg abcdefgh abcdefghij changeme
    secret login default humangate captcha woaini aini
    """.split()
)

# Frequent entries of 10 characters or more in public leak lists (shorter ones fail the length
# rule already).
COMMON_PASSWORDS = frozenset(
    """1234567890 0987654321 1111111111 0000000000 1234512345 1234554321 1122334455 1212121212
    123456789a a123456789 1234567891 12345678910 123123123123 1234567890a qwertyuiop
    qwertyuiop123 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc qazwsxedcrfv zaq12wsxcde zaq1zaq1zaq1
    password12 password123 password1234 password12345 passw0rd123 iloveyou12 iloveyou123
    qwerty1234 qwerty12345 qwerty123456 asdfghjkl1 asdfghjkl123 zxcvbnm123 abc1234567
    abcd123456 abcdefghij abcdefghijk 147258369a 1q2w3e4r5t6y7u 5201314520 woaini1314
    woaini520 aa123456789 a1234567890 welcome123 welcome1234 letmein123 admin12345
    administrator football123 baseball123 sunshine12 princess12 superman123 starwars123
    changeme123 trustno1234 iloveyou1234 michael123 jennifer123 computer123 internet123
    qwer1234qwer 1qazxsw23edc 7777777777 9999999999 8888888888 5555555555 6666666666
    """.split()
)
