"""What the widget sends besides its answer: the browser's environment at issue, the gesture
and the proof of work's solution at answer. Every model is strict and closed (`extra="forbid"`):
a field of the wrong type or an unknown one is a 400, never evidence."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from humangate.text import MAX_JSON_DEPTH, is_clean_text

MAX_TRACE_POINTS = 600
Pair = Annotated[list[Annotated[int, Field(ge=0, le=100_000)]], Field(min_length=2, max_length=2)]
# Short names the widget lists (automation globals, patched built-ins): [a-zA-Z-], 24 at most.
Code = Annotated[str, Field(max_length=24, pattern=r"^[A-Za-z-]*$")]
Brand = Annotated[str, Field(max_length=48)]


class ApiModel(BaseModel):
    """A request body of the public API: strict, closed, and no text in it (at any depth of a
    free-form field) holds a NUL or a lone surrogate, which the databases and encoders refuse."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        check_free_form(value)
        return value


def check_free_form(value: Any, depth: int = 0) -> None:
    """Raise ValueError for unsafe text or nesting anywhere in a parsed JSON value."""
    if isinstance(value, str):
        if not is_clean_text(value):
            raise ValueError("text must not hold a NUL or a lone surrogate")
    elif isinstance(value, list | dict):
        if depth >= MAX_JSON_DEPTH:
            raise ValueError("the value is nested too deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            check_free_form(key, depth + 1)
            check_free_form(item, depth + 1)


class Environment(ApiModel):
    """Coarse facts about the browser, read once by the widget; every key optional.

    Used for consistency rules (humangate/risk/environment.py) and, hashed with the unit's salt,
    for the device id; never stored as given.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    wd: bool | None = None
    ua: str | None = Field(default=None, max_length=300)
    lang: str | None = Field(default=None, max_length=35)
    langs: int | None = Field(default=None, ge=0, le=100)
    tz: str | None = Field(default=None, max_length=64)
    tzo: int | None = Field(default=None, ge=-1440, le=1440)
    scr: Pair | None = None
    avail: Pair | None = None
    dpr: float | None = Field(default=None, ge=0, le=20, allow_inf_nan=False)
    touch: int | None = Field(default=None, ge=0, le=1000)
    hc: int | None = Field(default=None, ge=0, le=4096)
    mem: float | None = Field(default=None, ge=0, le=4096, allow_inf_nan=False)
    plugins: int | None = Field(default=None, ge=0, le=1000)
    canvas: str | None = Field(default=None, max_length=16, pattern=r"^[0-9a-f]*$")
    webgl: str | None = Field(default=None, max_length=64)
    chrome: bool | None = None
    perm: str | None = Field(default=None, max_length=16)
    outer: Pair | None = None
    inner: Pair | None = None
    plat: str | None = Field(default=None, max_length=32)
    uab: list[Brand] | None = Field(default=None, max_length=8)
    uap: str | None = Field(default=None, max_length=32)
    uam: bool | None = None
    glv: str | None = Field(default=None, max_length=64)
    rt: bool | None = None
    nperm: str | None = Field(default=None, max_length=16)
    cdp: bool | None = None
    auto: list[Code] | None = Field(default=None, max_length=16)
    patched: list[Code] | None = Field(default=None, max_length=16)


class IssueSignals(ApiModel):
    """What the widget sends with a challenge request."""

    model_config = ConfigDict(extra="forbid", strict=True)

    env: Environment | None = None
    fp: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")


class GestureSignals(ApiModel):
    """The pointer trace of the gesture that produced an answer: [x, y, t] in CSS px relative to
    where the gesture began and ms since the widget showed the challenge, t non-decreasing."""

    model_config = ConfigDict(extra="forbid", strict=True)

    pointer: Literal["mouse", "touch", "pen", "keyboard", "none"] = "none"
    trace: list[list[float]] | None = Field(default=None, max_length=MAX_TRACE_POINTS)

    @field_validator("trace")
    @classmethod
    def _points(cls, trace: list[list[float]] | None) -> list[list[float]] | None:
        if trace is None:
            return None
        last = 0.0
        for point in trace:
            if len(point) != 3:
                raise ValueError("each trace point is [x, y, t]")
            x, y, t = point
            if not all(abs(v) <= 100_000 for v in (x, y)) or not 0 <= t <= 86_400_000:
                raise ValueError("trace point out of range")
            if t < last:
                raise ValueError("trace times must not decrease")
            last = t
        return trace


class PowSolution(ApiModel):
    """The proof of work's answer and how the widget found it: `elapsed_ms` from the start of
    its search to the answer and the `hashes` it computed (number + 1 for its search from 0).
    Both optional; a missing timing counts against the visitor (humangate/risk/pow_rate.py)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    number: int = Field(ge=0, le=2**53)
    elapsed_ms: float | None = Field(default=None, ge=0, le=86_400_000, allow_inf_nan=False)
    hashes: int | None = Field(default=None, ge=0, le=2**53)
