"""The import graph: layers import downward only, no cycles, locust only inside Locust.

Layers, bottom up (docs/architecture.md draws them):

    ground     lagscope.<module>                errors, units, rundir, defaults, ...
    probe      lagscope.harness.probe           inside each server worker
    testing    lagscope.harness.testing         the pytest plugin, inside the user's test run
    loadgen    lagscope.harness.loadgen         inside Locust's gevent-patched process
    analysis   lagscope.reports (not below)     pure steps and rules over a RunData
    render     lagscope.reports.renderers       typed summary in, output out
    compose    lagscope.reports.build / sweep_build   load, summarize, render, write
    run        lagscope.harness.run             the control process
    cli        lagscope.harness.cli             the command, on top; nothing imports it

``scenarios`` (locustfiles, run inside Locust) and ``target_apps`` (the apps lagscope
runs) are payload: they may use the ground floor and loadgen, and ``run``/``cli`` may
list them.  Every import counts, including those inside functions; imports under
``if TYPE_CHECKING:`` count too, for layers and for cycles.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {
    "lagscope": "lagscope",
    "harness": "lagscope.harness",
    "reports": "lagscope.reports",
    "scenarios": "lagscope.scenarios",
    "target_apps": "lagscope.target_apps",
}
ALLOWED: dict[str, set[str]] = {
    "ground": {"ground"},
    "probe": {"ground", "probe"},
    "testing": {"ground", "probe", "testing"},
    "loadgen": {"ground", "loadgen"},
    "analysis": {"ground", "analysis"},
    "render": {"ground", "analysis", "render"},
    "compose": {"ground", "analysis", "render", "compose"},
    "run": {"ground", "analysis", "render", "compose", "run", "payload"},
    "cli": {"ground", "analysis", "render", "compose", "run", "cli", "payload"},
    "payload": {"ground", "loadgen", "payload"},
    "package": {"ground", "probe", "cli", "analysis", "render", "compose", "run", "loadgen"},
}
# The import root's __init__ (lazy `instrument`) and __main__ (the CLI) are the entry points.
ENTRY_POINTS = {"lagscope", "lagscope.__main__"}


def layer(module: str) -> str:
    if module in ENTRY_POINTS:
        return "package"
    parts = module.split(".")
    if len(parts) == 2 and parts[1] not in {"harness", "reports", "scenarios", "target_apps"}:
        return "ground"
    if parts[1] in {"scenarios", "target_apps"}:
        return "payload"
    if parts[1] == "harness":
        return parts[2] if len(parts) > 2 else "package"
    if module in {"lagscope.reports.build", "lagscope.reports.sweep_build"}:
        return "compose"
    if len(parts) > 2 and parts[2] == "renderers":
        return "render"
    return "analysis" if len(parts) > 2 else "package"


def modules() -> dict[str, Path]:
    found = {}
    for folder, prefix in FOLDERS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO / folder).with_suffix("").parts
            rel = rel[:-1] if rel[-1] == "__init__" else rel
            found[".".join((prefix, *rel))] = path
    return found


def imports(path: Path, module: str) -> list[str]:
    """Every name ``path`` imports, absolute (``from a import b`` gives ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            # `from a.b import c`: c is a module of a.b or a name in it (resolve() decides).
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The lagscope module ``name`` refers to (``pkg.attr`` -> ``pkg``), or None."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        for name in imports(path, module):
            target = resolve(name, known) if name.startswith("lagscope") else None
            if target and target != module:
                edges[module].add(target)
    return edges


def test_every_import_goes_downward() -> None:
    upward = [
        f"{source} ({layer(source)}) imports {target} ({layer(target)})"
        for source, targets in graph().items()
        for target in sorted(targets)
        if layer(target) not in ALLOWED[layer(source)] and not target.endswith(".__init__")
    ]
    assert upward == []


def test_nothing_imports_the_cli() -> None:
    importers = [
        source
        for source, targets in graph().items()
        if layer(source) not in {"cli", "package"} and any(layer(t) == "cli" for t in targets)
    ]
    assert importers == []


HEAVY = ("pandas", "numpy", "pyarrow", "matplotlib", "locust", "gevent", "schemathesis")


def test_the_command_parses_its_flags_without_the_analysis_stack() -> None:
    # `lagscope --help` and a mistake in a flag answer in a fifth of a second; pandas,
    # numpy and pyarrow alone took 0.5 s, and every command would pay it up front.
    code = (
        "import sys; import lagscope.harness.cli.main; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)  # fmt: skip
    assert done.stdout.split() == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle() -> None:
    # A package's __init__ re-exporting its own submodule is not a cycle of logic.
    edges = {
        source: {t for t in targets if not t.startswith(source + ".")}
        for source, targets in graph().items()
    }
    assert _cycles(edges) == []


def test_the_cycle_check_can_fail() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("lagscope.reports.loop", "lagscope.harness.run.config", False),
        ("lagscope.harness.probe.asgi", "lagscope.reports.loop", False),
        ("lagscope.reports.renderers.html", "lagscope.reports.build", False),
        ("lagscope.harness.run.orchestrator", "lagscope.harness.cli.main", False),
        ("lagscope.harness.cli.main", "lagscope.reports.build", True),
        ("lagscope.reports.slo", "lagscope.errors", True),
        ("lagscope.harness.testing.watch", "lagscope.harness.probe.watchdog", True),
        ("lagscope.harness.testing.verdict", "lagscope.reports.loop", False),
        ("lagscope.harness.testing.plugin", "lagscope.harness.run.target", False),
    ],
)
def test_the_layer_rule_reads_as_documented(source: str, target: str, allowed: bool) -> None:
    assert (layer(target) in ALLOWED[layer(source)]) is allowed


def test_only_loadgen_and_scenarios_name_locust_or_gevent() -> None:
    offenders = [
        module
        for module, path in modules().items()
        if layer(module) not in {"loadgen", "payload"}
        and any(name.split(".")[0] in {"locust", "gevent"} for name in imports(path, module))
    ]
    assert offenders == []


def test_the_control_process_and_reports_never_load_locust_or_gevent() -> None:
    # Importing locust monkey-patches the process with gevent: checked in a fresh process.
    control = sorted(
        m for m in modules() if layer(m) in {"run", "cli", "analysis", "render", "compose"}
    )
    code = (
        "import importlib, sys\n"
        f"for m in {control!r}: importlib.import_module(m)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in {'locust', 'gevent'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
