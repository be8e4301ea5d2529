"""Schemathesis hooks for scripts/contract: how to send JSON lines and CSP reports."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # The body is raw bytes of JSON lines; strings are sent as UTF-8 text.
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return (json.dumps(value) + "\n").encode("utf-8")


@schemathesis.serializer("application/csp-report", "application/reports+json")
def csp_report(ctx, value):
    # Browsers send JSON under these media types; raw bytes go as they are.
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8")
