"""The API descriptions the fakes are built from, and small validators for them.

- Mastodon: the OpenAPI 3.1 document (`mastodon/schema.json`), JSON Schema subset.
- Bluesky: the AT Protocol lexicons (`atproto/lexicons/**.json`).

`strict=True` also refuses keys the description does not declare, so a fixture cannot
invent fields the real API never sends.
"""

import json
from functools import cache
from pathlib import Path


def apis_dir():
    for candidate in (
        Path(__file__).resolve().parents[3].parent / "shared" / "data" / "apis",
        Path("/work/shared/data/apis"),
    ):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("shared/data/apis not found next to the repository")


class SchemaError(AssertionError):
    pass


# --- Mastodon OpenAPI --------------------------------------------------------------


@cache
def mastodon_openapi():
    return json.loads((apis_dir() / "mastodon" / "schema.json").read_text())


def mastodon_schema(name):
    return mastodon_openapi()["components"]["schemas"][name]


def mastodon_properties(name):
    return set(mastodon_schema(name).get("properties", {}))


def mastodon_operation(path, method="get"):
    return mastodon_openapi()["paths"][path][method]


def mastodon_parameters(path, method="get"):
    return {
        parameter["name"] for parameter in mastodon_operation(path, method).get("parameters", [])
    }


def _resolve(schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        extra = {key: value for key, value in schema.items() if key not in ("$ref", "description")}
        schema = {**mastodon_schema(name), **extra}
    return schema


TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _type_ok(value, name):
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[name])


def validate_openapi(value, schema, *, path="$", strict=True):
    """Validate `value` against an OpenAPI schema (a dict, or a component name)."""
    if isinstance(schema, str):
        schema = mastodon_schema(schema)
    schema = _resolve(schema)
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            errors = []
            for option in schema[keyword]:
                try:
                    validate_openapi(value, option, path=path, strict=strict)
                    break
                except SchemaError as error:
                    errors.append(str(error))
            else:
                raise SchemaError(f"{path}: matches no option of {keyword}: {errors}")
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_type_ok(value, name) for name in types):
            raise SchemaError(f"{path}: {value!r} is not of type {types}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict) and ("properties" in schema or "required" in schema):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                raise SchemaError(f"{path}: required field {key!r} is missing")
        for key, item in value.items():
            if key in properties:
                validate_openapi(item, properties[key], path=f"{path}.{key}", strict=strict)
            elif strict:
                raise SchemaError(f"{path}: field {key!r} is not in the description")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            validate_openapi(item, schema["items"], path=f"{path}[{index}]", strict=strict)


# --- AT Protocol lexicons ----------------------------------------------------------


@cache
def lexicon(nsid):
    return json.loads(
        (apis_dir() / "atproto" / "lexicons" / (nsid.replace(".", "/") + ".json")).read_text()
    )


def lexicon_def(ref, context=None):
    """The definition a ref names: "nsid", "nsid#name" or "#name" (relative to context)."""
    nsid, _sep, name = ref.partition("#")
    nsid = nsid or context
    return nsid, lexicon(nsid)["defs"][name or "main"]


def lexicon_properties(ref):
    nsid, definition = lexicon_def(ref)
    if definition["type"] in ("query", "procedure"):
        definition = definition["output"]["schema"]
    elif definition["type"] == "record":
        definition = definition["record"]
    return set(definition.get("properties", {}))


def validate_lexicon(value, ref, *, context=None, path="$", strict=True):
    nsid, definition = lexicon_def(ref, context)
    if definition["type"] in ("query", "procedure"):
        definition = definition["output"]["schema"]
    elif definition["type"] == "record":
        definition = definition["record"]
        if isinstance(value, dict) and value.get("$type") != nsid:
            raise SchemaError(f"{path}: $type must be {nsid!r}")
    _validate_lexicon_value(value, definition, nsid, path, strict)


def _validate_lexicon_value(value, definition, nsid, path, strict):
    kind = definition["type"]
    if kind == "ref":
        validate_lexicon(value, definition["ref"], context=nsid, path=path, strict=strict)
        return
    if kind == "union":
        if not isinstance(value, dict) or "$type" not in value:
            raise SchemaError(f"{path}: a union value needs $type")
        refs = [ref if not ref.startswith("#") else nsid + ref for ref in definition["refs"]]
        target = value["$type"]
        matches = [ref for ref in refs if ref in (target, target + "#main")]
        if not matches:
            if definition.get("closed"):
                raise SchemaError(f"{path}: $type {target!r} not in {refs}")
            return
        inner = {key: item for key, item in value.items() if key != "$type"}
        other_nsid, other = lexicon_def(matches[0], nsid)
        _validate_lexicon_value(inner, other, other_nsid, path, strict)
        return
    if kind == "unknown":
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: unknown must be an object")
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: {value!r} is not an object")
        properties = definition.get("properties", {})
        for key in definition.get("required", []):
            if key not in value:
                raise SchemaError(f"{path}: required field {key!r} is missing")
        for key, item in value.items():
            if key in properties:
                _validate_lexicon_value(item, properties[key], nsid, f"{path}.{key}", strict)
            elif strict and key != "$type":
                raise SchemaError(f"{path}: field {key!r} is not in the lexicon")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise SchemaError(f"{path}: {value!r} is not an array")
        for index, item in enumerate(value):
            _validate_lexicon_value(item, definition["items"], nsid, f"{path}[{index}]", strict)
        return
    expected = {"string": str, "integer": int, "boolean": bool}.get(kind)
    if expected is not None:
        if not isinstance(value, expected) or (kind == "integer" and isinstance(value, bool)):
            raise SchemaError(f"{path}: {value!r} is not a {kind}")
        if (
            kind == "string"
            and definition.get("format") == "at-uri"
            and not value.startswith("at://")
        ):
            raise SchemaError(f"{path}: {value!r} is not an at-uri")
        if (
            kind == "string"
            and "maxLength" in definition
            and len(value.encode()) > definition["maxLength"]
        ):
            raise SchemaError(f"{path}: longer than {definition['maxLength']} bytes")
