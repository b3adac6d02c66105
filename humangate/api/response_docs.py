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
