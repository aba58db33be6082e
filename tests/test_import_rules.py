"""Rules about who imports whom in ``events/``, read from the source (``ast``), not by
importing it.

Every ``import`` counts, at module level or inside a function: a late import hides a
cycle from Python, not from the design. The layers this keeps apart: :mod:`events.mail`
(queue, render, send) below :mod:`events.services` (the rules), and :mod:`events.jobs`
(the worker and the periodic jobs) above them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "events"
#: Alembic scripts are loaded by Alembic, never imported by the code.
NOT_CODE = ("events.migrations",)

Graph = dict[str, set[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of ``events`` (packages by their ``__init__``), by dotted name."""
    found = {_module_name(path): path for path in (ROOT / PACKAGE).rglob("*.py")}
    return {
        name: path
        for name, path in found.items()
        if not any(name == skip or name.startswith(f"{skip}.") for skip in NOT_CODE)
    }


def _resolve(name: str) -> str | None:
    """The module of ``events`` that ``name`` (a module, or a name inside one) is in."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imported_names(name: str, path: Path) -> Iterable[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, one level up per extra dot
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            # ``from events import tickets`` imports the module events.tickets.
            yield from (f"{origin}.{alias.name}" for alias in node.names)


@cache
def module_graph() -> Graph:
    """Module → the modules of ``events`` it imports (itself excluded)."""
    graph: Graph = {}
    for name, path in modules().items():
        targets = {_resolve(imported) for imported in _imported_names(name, path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def unit_of(module: str) -> str:
    """The part of ``events`` a module belongs to: its subpackage (``events.mail``) or,
    for a top-level module, itself (``events.database``)."""
    return ".".join(module.split(".")[:2])


def unit_graph(modules_graph: Graph) -> Graph:
    """The graph between subpackages and top-level modules (edges inside one dropped).
    The package ``events`` itself imports nothing and is left out."""
    graph: Graph = {}
    for source, targets in modules_graph.items():
        if source == PACKAGE:
            continue
        edges = graph.setdefault(unit_of(source), set())
        edges.update(unit_of(t) for t in targets if t != PACKAGE and unit_of(t) != unit_of(source))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted: a
    node in one can reach itself through the others."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _paths(graph: Graph, component: list[str]) -> list[str]:
    """The edges inside a cycle, to say which imports make it."""
    members = set(component)
    return [f"{a} -> {b}" for a in component for b in sorted(graph.get(a, ())) if b in members]


def _module_edges(units: list[str]) -> list[str]:
    members = set(units)
    return [
        f"{source} -> {target}"
        for source, targets in sorted(module_graph().items())
        for target in sorted(targets)
        if unit_of(source) in members
        and unit_of(target) in members
        and unit_of(source) != unit_of(target)
    ]


def test_the_modules_of_events_import_each_other_without_a_cycle() -> None:
    graph = module_graph()
    assert len(graph) > 50  # the walk found the code
    found = cycles(graph)
    assert found == [], [_paths(graph, component) for component in found]


def test_the_packages_of_events_import_each_other_without_a_cycle() -> None:
    graph = unit_graph(module_graph())
    assert {"events.mail", "events.services", "events.models"} <= set(graph)
    found = cycles(graph)
    assert found == [], [_module_edges(component) for component in found]


def test_the_layers_are_mail_then_services_then_jobs() -> None:
    graph = unit_graph(module_graph())
    assert "events.mail" in graph["events.services"]
    assert "events.services" in graph["events.jobs"]
    assert "events.jobs" not in {t for targets in graph.values() for t in targets}


def test_the_cycle_finder_finds_the_cycle_the_old_layout_had() -> None:
    # The negative control: before the split, events.mail.worker imported the services,
    # and the services imported events.mail.notify; events.database imported
    # events.mail.settings and events.mail.outbox imported events.database.
    old = {
        "events.mail.notify": {"events.models"},
        "events.mail.settings": set(),
        "events.mail.outbox": {"events.database"},
        "events.mail.worker": {"events.services.registrations", "events.mail.outbox"},
        "events.services.registrations": {"events.mail.notify", "events.database"},
        "events.database": {"events.mail.settings"},
        "events.models": set(),
    }
    assert cycles(old) == []  # no module imports itself back...
    assert cycles(unit_graph(old)) == [["events.database", "events.mail", "events.services"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# -- the wall between the domain and the web, and between controllers ----------------------
#: What the domain never imports: the web adapter and the framework it is written for.
FORBIDDEN_IN_EVENTS = ("web", "litestar", "litestar_htmx", "jinja2")
#: The one exception: mails are a domain output, written by the worker without any web
#: server, from the templates in events/mail/templates; Jinja renders them there, and only
#: there (pages are web/'s).
JINJA_ALLOWED_IN = "events.mail.render"
CONTROLLERS = "web.controllers"


def _imports_of_source(name: str, source: str, *, is_package: bool = False) -> set[str]:
    """Every dotted name ``source`` (the module ``name``) imports, relative ones resolved."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def _tree(package: str) -> dict[str, Path]:
    root = ROOT / package.replace(".", "/")
    return {_module_name(path): path for path in root.rglob("*.py")}


def _forbidden(imported: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {name for name in imported for p in prefixes if name == p or name.startswith(f"{p}.")}


def domain_reaching_the_web(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module of ``events`` → what it imports of the web adapter or its framework."""
    found = {}
    for name, source in sources.items():
        bad = _forbidden(_imports_of_source(name, source), FORBIDDEN_IN_EVENTS)
        if name == JINJA_ALLOWED_IN:
            bad -= _forbidden(bad, ("jinja2",))
        if bad:
            found[name] = bad
    return found


def controllers_importing_controllers(sources: dict[str, str]) -> dict[str, set[str]]:
    """Controller module → the other controller modules it imports (the package's
    ``__init__``, which lists the route handlers, is the one allowed to)."""
    found = {}
    for name, source in sources.items():
        if name == CONTROLLERS:
            continue
        imported = _forbidden(_imports_of_source(name, source), (CONTROLLERS,))
        others = {i for i in imported if i != name and not name.startswith(f"{i}.")}
        others.discard(CONTROLLERS)
        if others:
            found[name] = others
    return found


def test_no_module_of_events_imports_the_web_or_its_framework() -> None:
    sources = {name: path.read_text() for name, path in modules().items()}
    assert len(sources) > 50
    assert domain_reaching_the_web(sources) == {}


def test_no_controller_imports_another_controller() -> None:
    sources = {name: path.read_text() for name, path in _tree(CONTROLLERS).items()}
    assert len(sources) > 10
    assert controllers_importing_controllers(sources) == {}


def test_the_wall_checks_can_fail() -> None:
    # Negative controls: each rule finds the import it forbids, in every spelling.
    assert domain_reaching_the_web(
        {
            "events.a": "from web.rendering import page\n",
            "events.b": "import litestar\n",
            "events.c": "def f():\n    from jinja2 import Environment\n",
            "events.d": "from events import models\nimport webbrowser\n",
        }
    ) == {
        "events.a": {"web.rendering", "web.rendering.page"},
        "events.b": {"litestar"},
        "events.c": {"jinja2", "jinja2.Environment"},
    }
    found = controllers_importing_controllers(
        {
            "web.controllers.a": "from web.controllers.feeds import event_ics\n",
            "web.controllers.b": "from . import door_scan\n",
            "web.controllers.c": "from web.door.access import door\n",
            "web.controllers": "from web.controllers.a import A\n",
        }
    )
    assert found == {
        "web.controllers.a": {"web.controllers.feeds", "web.controllers.feeds.event_ics"},
        "web.controllers.b": {"web.controllers.door_scan"},
    }
