"""The OpenAPI description of the challenge API's answers (humangate.loop.records' `Issued`
and `Answered` as JSON), so that clients and schemathesis can check them."""

from __future__ import annotations

from typing import Any

ISSUED: dict[str, Any] = {
    "type": "object",
    "description": "A challenge; its content is under the key named by `kind`.",
    "required": ["id", "kind", "expires_in"],
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": ["pow", "slide", "rotate", "click", "text", "audio"]},
        "expires_in": {"type": "integer", "minimum": 0},
        "gesture": {"type": "boolean"},
        "mark": {
            "type": "boolean",
            "description": "false: the widget leaves the HumanGate name out (enterprise)",
        },
    },
    "additionalProperties": {"type": "object"},
}
ANSWERED: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "required": ["success", "token", "expires_in"],
            "additionalProperties": False,
            "properties": {
                "success": {"const": True},
                "token": {"type": "string"},
                "expires_in": {"type": "integer", "minimum": 0},
            },
        },
        {
            "type": "object",
            "description": "A failed answer: a code, and the next challenge unless locked out.",
            "required": ["success", "error", "next"],
            "additionalProperties": False,
            "properties": {
                "success": {"const": False},
                "error": {"type": "string"},
                "next": {"anyOf": [ISSUED, {"type": "null"}]},
            },
        },
    ]
}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _closed(**properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


_COUNT = {"type": "integer", "minimum": 0}
DEVICE_RECORDS = _closed(
    opted_out={"type": "boolean"},
    events={
        "type": "array",
        "items": _closed(
            at={"type": "string", "format": "date-time"},
            kind={"type": "string"},
            outcome={"type": "string"},
            network={"type": "string"},
            labelled={"type": "boolean"},
        ),
    },
)
ERASED = _closed(erased=_COUNT)
OPTED_OUT = _closed(opted_out={"const": True}, erased=_COUNT)
OPTED_IN = _closed(opted_out={"const": False})
CALIBRATION: dict[str, Any] = {
    "type": "object",
    "description": "Label counts, pass rates at the current threshold, the suggested threshold.",
    "required": ["base_threshold"],
}
FEEDBACK = _closed(success={"const": True}, calibration=CALIBRATION)
