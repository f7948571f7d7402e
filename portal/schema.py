"""OpenAPI schema post-processing: document the error answers every operation can give.

DRF answers 401/403 to any operation (token missing or not allowed), 404 for unknown objects and
invalid ``page`` numbers, and 400 for request bodies or query parameters it refuses; the
generated schema lists only the success code. Documenting them keeps the schema truthful for
clients (and for schemathesis, which the test suite runs against it).
"""

ERROR_SCHEMA = {
    "type": "object",
    "description": "``detail`` with a message, or field names with lists of messages.",
    "additionalProperties": True,
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            responses.setdefault("401", _error("Not signed in (API token missing or wrong)."))
            responses.setdefault("403", _error("The token's account may not do this."))
            if "{" in path or any(p.get("name") == "page" for p in parameters):
                responses.setdefault("404", _error("No such object (or page) in this tenant."))
            if (
                method in {"post", "put", "patch"}
                or "requestBody" in operation
                or any(p.get("in") == "query" for p in parameters)
            ):
                responses.setdefault("400", _error("The request was refused; the body says why."))
    return result
