"""Dependencies between the apps point one way (docs/DEVELOPING.md, ARCHITECTURE.md):

    portal -> (mdm, enrollment) -> apple -> users;  mdm -> enrollment;  users uses none of them.

The allowed arrows are data, here in one place. The check parses every module of the apps with
``ast`` and finds imports (absolute, relative, ``import_module("...")``), model lookups
(``apps.get_model("label", ...)``) and lazy relations (``ForeignKey("label.Model")``).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# app -> the apps it may use. An app not listed here is not one of ours.
ALLOWED = {
    "portal": {"users", "apple", "enrollment", "mdm"},
    "mdm": {"users", "apple", "enrollment"},
    "enrollment": {"users", "apple"},
    "apple": {"users"},
    "users": set(),
}

# App labels (of models) that are not the package name.
LABELS = {"user_imports": "users", "scep": "enrollment", "mobile_settings": "portal"}

MODEL_REFERENCES = {"get_model", "ForeignKey", "OneToOneField", "ManyToManyField"}

# Request handlers are entry points, not a library: no other app imports them.
VIEW_MODULES = {"views", "public_views", "enduser_views", "api_views"}

# Known exceptions, each with who removes it. Keep this empty when you can.
TEMPORARY: set[tuple[str, str]] = set()


def _app_of(dotted: str) -> str | None:
    top = dotted.split(".")[0]
    top = LABELS.get(top, top)
    return top if top in ALLOWED else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def references(path: Path):
    """(line, dotted name) of everything this module uses of other packages or apps."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # from enrollment import public_views
                yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            first = node.args[0] if node.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if name == "import_module":
                yield node.lineno, first.value
            elif name in MODEL_REFERENCES and (name == "get_model" or "." in first.value):
                yield node.lineno, first.value.split(".")[0]


def violations():
    found = []
    for app in ALLOWED:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            for line, name in references(path):
                target = _app_of(name)
                if target is None or target == app:
                    continue
                where = f"{relative}:{line}"
                if (relative, ".".join(name.split(".")[:2])) in TEMPORARY:
                    continue
                if target not in ALLOWED[app]:
                    found.append(f"{where}: {app} must not use {target} ({name})")
                elif set(name.split(".")[1:]) & VIEW_MODULES:
                    found.append(f"{where}: {app} imports a view module of {target} ({name})")
    return sorted(set(found))


def test_apps_depend_only_along_the_allowed_arrows():
    problems = violations()
    assert not problems, "Dependencies against the allowed arrows:\n" + "\n".join(problems)


def test_the_check_sees_a_wrong_arrow(tmp_path, monkeypatch):
    module = ROOT / "users" / "_dependency_probe.py"
    module.write_text("from mdm.models import Device\nimport enrollment.views\n")
    try:
        problems = violations()
    finally:
        module.unlink()
    assert any("users must not use mdm" in p for p in problems)
    assert any("users must not use enrollment" in p for p in problems)


def test_the_arrows_have_no_cycle():
    def reaches(start, goal, seen=()):
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, (*seen, nxt)))
            for nxt in ALLOWED[start]
        )

    assert not [app for app in ALLOWED if reaches(app, app)]
