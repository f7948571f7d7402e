"""Build ``apple/schema/facts.json`` from Apple's device-management schema (YAML).

    .venv/bin/python scripts/build_schema_facts.py [SCHEMA_DIR]

SCHEMA_DIR defaults to ``$APPLE_SCHEMA_DIR`` or ``../shared/apple-device-management``. Only facts
are kept (key names, Apple's short titles, types, presence, defaults, ranges, formats, value lists,
iOS availability, user-enrollment modes); no descriptions. The output is deterministic, so a rebuild from the same
schema commit reproduces the committed file byte for byte.
"""

import json
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "apple" / "schema" / "facts.json"
DEFAULT_SCHEMA = ROOT.parent / "shared" / "apple-device-management"


def _ios(supported: dict | None) -> dict:
    """The iOS facts of a ``supportedOS`` block (absent keys inherit from the payload)."""
    ios = (supported or {}).get("iOS")
    if ios is None:
        return {}
    facts = {}
    for name in ("introduced", "deprecated", "removed"):
        if name in ios:
            facts[name] = str(ios[name])
    if "supervised" in ios:
        facts["supervised"] = bool(ios["supervised"])
    mode = (ios.get("userenrollment") or {}).get("mode")
    if mode:
        facts["ue"] = mode
    return facts


def _keys(items: list | None, _seen: frozenset = frozenset()) -> list:
    if items is not None and id(items) in _seen:
        # A YAML alias that refers to an enclosing key (recursive structures): stop here.
        return [{"key": "ANY", "type": "any"}]
    seen = _seen | {id(items)}
    keys = []
    for item in items or []:
        entry = {"key": item["key"], "type": item.get("type", "<any>").strip("<>")}
        if item.get("title"):
            entry["title"] = str(item["title"])
        if item.get("presence") == "required":
            entry["required"] = True
        if "default" in item:
            entry["default"] = _json_value(item["default"])
        if item.get("range"):
            entry["range"] = {k: v for k, v in item["range"].items() if k in ("min", "max")}
        for name in ("format", "subtype"):
            if item.get(name):
                entry[name] = str(item[name])
        if item.get("rangelist") is not None:
            entry["rangelist"] = item["rangelist"]
        if item.get("repetition"):
            entry["repetition"] = item["repetition"]
        ios = _ios(item.get("supportedOS"))
        if ios:
            entry["ios"] = ios
        if item.get("subkeys"):
            entry["subkeys"] = _keys(item["subkeys"], seen)
        keys.append(entry)
    return keys


def _json_value(value):
    """YAML may read a default as a date; the table keeps JSON values only."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _entry(doc: dict) -> dict:
    entry = {"ios": _ios(doc["payload"].get("supportedOS")), "keys": _keys(doc.get("payloadkeys"))}
    if doc.get("title"):
        entry["title"] = str(doc["title"])
    return entry


def build(schema_dir: Path) -> dict:
    facts = {
        "source": {
            "repository": "https://github.com/apple/device-management",
            "commit": (schema_dir / "COMMIT.txt").read_text().split()[0],
            "licence": "MIT",
        },
        "profiles": {},
        "commands": {},
        "checkin": {},
    }
    for path in sorted((schema_dir / "mdm" / "profiles").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        name = (
            path.stem
            if path.stem in ("TopLevel", "CommonPayloadKeys")
            else (doc["payload"]["payloadtype"])
        )
        entry = _entry(doc)
        # A few payload types have one file per platform; keep the one iOS supports.
        if name in facts["profiles"] and not entry["ios"]:
            continue
        facts["profiles"][name] = entry
    for kind in ("commands", "checkin"):
        for path in sorted((schema_dir / "mdm" / kind).glob("*.yaml")):
            doc = yaml.safe_load(path.read_text())
            facts[kind][doc["payload"]["requesttype"]] = _entry(doc)
    return facts


def render(facts: dict) -> str:
    return json.dumps(facts, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    schema_dir = Path(
        sys.argv[1] if len(sys.argv) > 1 else os.environ.get("APPLE_SCHEMA_DIR", DEFAULT_SCHEMA)
    )
    OUT.write_text(render(build(schema_dir)))
    print(f"wrote {OUT.relative_to(ROOT)} from {schema_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
