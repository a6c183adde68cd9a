"""The error answers in the OpenAPI document: every /v1 operation lists the 4xx statuses it can give,
each with the one error body (`Error`) that http/errors.py renders, in place of FastAPI's own 422 shape."""

from __future__ import annotations

import json
from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable: validation_error, not_found, ..."},
                "message": {"type": "string"},
                "param": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "The input at fault."},
                "details": {"description": "More about the problem, such as every invalid field."},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_COMMON = {
    "400": "bad_request or invalid_json: the request could not be read",
    "404": "not_found: no such resource",
    "409": "a conflict: the resource's state, or an Idempotency-Key in use or reused",
    "422": "validation_error (naming the field) or a rule the request breaks",
}
_AUTHENTICATED = {
    "401": "unauthenticated: no operator key, or one not valid or revoked",
    "403": "forbidden: the key's scope does not allow this endpoint",
}
_WITH_BODY = {"413": "payload_too_large: the body is larger than the server's limit"}


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/v1"):
            continue
        for operation in operations.values():
            _document_operation(operation)
    # FastAPI's own 422 shape is never answered under /v1; other APIs (/api/v1, Lago's) may still name it.
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document.get("paths", {})):
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
    return document


def _document_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    statuses = dict(_COMMON)
    if operation.get("security"):
        statuses.update(_AUTHENTICATED)
    if "requestBody" in operation:
        statuses.update(_WITH_BODY)
    for status, description in statuses.items():
        if status not in responses or status == "422":
            responses[status] = {"description": description}
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": _ERROR_REF}}
