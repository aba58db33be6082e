"""Controllers do not import each other: what two of them share lives in a module of its own
(web/event_views.py, web/calendar_response.py, web/conditional.py...), so a route module can
change without reaching into another."""

from __future__ import annotations

import ast
from pathlib import Path

CONTROLLERS = Path(__file__).resolve().parents[2] / "web" / "controllers"
#: Known and being moved out separately (the door's counters); nothing may join it.
TOLERATED = {("manage_door", "door")}


def controller_imports() -> set[tuple[str, str]]:
    """(importing controller, imported controller) for every module of web/controllers."""
    found: set[tuple[str, str]] = set()
    for path in CONTROLLERS.glob("*.py"):
        if path.name == "__init__.py":  # the list of routes imports them all, by design
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                is_controller = parts[:2] == ["web", "controllers"] and len(parts) > 2
                if is_controller and (CONTROLLERS / f"{parts[2]}.py").exists():
                    found.add((path.stem, parts[2]))
    return found


def test_no_controller_imports_another() -> None:
    assert controller_imports() <= TOLERATED


def test_the_check_sees_an_import_between_controllers(tmp_path: Path, monkeypatch) -> None:
    # The negative control: a controller importing another is reported.
    fake = tmp_path / "controllers"
    fake.mkdir()
    (fake / "one.py").write_text("from web.controllers.two import helper\n")
    (fake / "two.py").write_text("import web.controllers.one\n")
    monkeypatch.setattr(__name__ + ".CONTROLLERS", fake)
    assert controller_imports() == {("one", "two"), ("two", "one")}
