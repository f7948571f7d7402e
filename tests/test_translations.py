"""Every user-visible string of a template, form or other portal module is in the German
catalogue (compiled, not fuzzy): a new English string without German fails here.

Fix a failure with the commands of docs/DEVELOPING.md (makemessages, translate, compilemessages).
"""

import ast
import re
from pathlib import Path

import pytest
from django.utils.translation import trans_real
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
APPS = ["portal", "users", "apple", "enrollment", "mdm"]
SKIP_PARTS = {"migrations", "management", "simulator", "__pycache__"}
GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
# Known gaps in code another change owns: (path, msgid). Remove an entry when it is fixed.
KNOWN_GAPS: set[tuple[str, str]] = set()
TEMPLATE_CALL = re.compile(
    r"\b(gettext|ngettext|pgettext|npgettext)\(((?:u'(?:[^'\\]|\\.)*'\s*,?\s*)+)"
)


def _key(function: str, args: list[str]):
    if function.startswith("p") or function.startswith("np"):
        context, args = args[0], args[1:]
        msgid = f"{context}\x04{args[0]}"
    else:
        msgid = args[0]
    return (msgid, 0) if "ngettext" in function else msgid


def template_strings():
    dirs = [ROOT / "templates"] + [p for app in APPS for p in (ROOT / app).rglob("templates")]
    for directory in dirs:
        for path in sorted(directory.rglob("*")):
            if path.suffix not in (".html", ".txt") or not path.is_file():
                continue
            code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            for match in TEMPLATE_CALL.finditer(code):
                args = list(ast.literal_eval("(" + match.group(2).rstrip().rstrip(",") + ",)"))
                yield path.relative_to(ROOT), _key(match.group(1), args)


def python_strings():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if SKIP_PARTS & set(path.relative_to(ROOT).parts):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in GETTEXT or not node.args:
                    continue
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if not args or not all(isinstance(a, str) for a in args):
                    continue
                function = name.replace("_lazy", "").replace("_noop", "")
                yield path.relative_to(ROOT), _key("gettext" if name == "_" else function, args)


def test_the_scan_finds_strings():
    assert len(list(template_strings())) > 300 and len(list(python_strings())) > 200


@pytest.mark.parametrize("source", ["templates", "python"])
def test_every_user_visible_string_has_german(source):
    catalog = trans_real.translation("de")._catalog
    found = template_strings() if source == "templates" else python_strings()
    missing = sorted(
        {
            (str(path), repr(key))
            for path, key in found
            if key not in catalog and (str(path), key) not in KNOWN_GAPS
        }
    )
    assert not missing, "Not in the German catalogue:\n" + "\n".join(
        f"{path}: {key}" for path, key in missing
    )
