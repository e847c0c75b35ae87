"""Checks of edgepass's own error standard, loaded by schemathesis through SCHEMATHESIS_HOOKS.

edgepass promises that every refused request gets a JSON body `{"error": code, "message": text}` (see
src/http/error.rs); `not_a_server_error` alone would let a bare-text 400 from a parser slip through.
"""

import json

import schemathesis


@schemathesis.check
def error_body_is_json(ctx, response, case):
    """Every 4xx and 5xx answer carries `{"error": str, "message": str}` as application/json."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.split(";")[0].strip().lower() == "application/json":
        raise AssertionError(
            f"{response.status_code} answered with Content-Type {content_type!r}, not application/json: "
            f"{response.text[:200]!r}"
        )
    try:
        body = json.loads(response.text)
    except ValueError as error:
        raise AssertionError(f"{response.status_code} body is not JSON ({error}): {response.text[:200]!r}")
    if not (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
        and body["error"]
        and body["message"]
    ):
        raise AssertionError(f"{response.status_code} body lacks error and message: {response.text[:200]!r}")
    return None
