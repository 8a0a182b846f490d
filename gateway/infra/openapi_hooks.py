"""drf-spectacular hooks that make the generated schema say exactly what the API does."""


def only_canonical_paths(endpoints, **kwargs):
    """The API also answers with a trailing slash; document each path once, without it."""
    return [e for e in endpoints if not e[0].endswith("/")]


def strict_request_bodies(result, generator, request, public):
    """Request bodies refuse unknown fields (400), so say so: additionalProperties false."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result


def required_request_bodies(result, generator, request, public):
    """A body with required fields is itself required (raw request schemas, like /v1/'s, do not say so)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            body = operation.get("requestBody")
            if body and any(media.get("schema", {}).get("required") for media in body.get("content", {}).values()):
                body["required"] = True
    return result


def add_response_headers(result, generator, request, public):
    """Document Retry-After on every 429."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("429")
            if response is not None:
                response["headers"] = {
                    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
                }
    return result


_BLANK = {"type": "string", "maxLength": 0}


def blank_or_text_any_of(result, generator, request, public):
    """drf-spectacular offers a blank-allowed string with a pattern as `oneOf: [the string, an empty string]`; where the
    pattern itself takes "" (a page title, an empty metadata url), "" matches both, which `oneOf` forbids, so the
    schema refused what the API accepts. Either branch is what is meant: `anyOf`."""

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("oneOf"), list) and _BLANK in node["oneOf"]:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
