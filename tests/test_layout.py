"""The package's imports point one way: no circle between modules, none between packages.

Every import counts, also those inside functions and under TYPE_CHECKING: a lazy import is
still a dependency, only a cheaper one.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import podium

ROOT = Path(podium.__file__).parent
Graph = dict[str, dict[str, str]]  # module -> {imported module: "file:line"}


def module_names() -> dict[str, Path]:
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports_of(path: Path, module: str, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The podium modules that ``path`` imports, with the line of each import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _known(alias.name, node.lineno, known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:  # `from package import module` imports the module
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}", node.lineno
                else:
                    yield from _known(base, node.lineno, known)


def _known(name: str, line: int, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    parts = name.split(".")
    while parts:  # `import podium.a.b` depends on the module a.b names, not its parents
        if ".".join(parts) in known:
            yield ".".join(parts), line
            return
        parts.pop()


def module_graph() -> Graph:
    known = module_names()
    graph: Graph = {name: {} for name in known}
    for name, path in known.items():
        where = path.relative_to(ROOT.parent)
        for target, line in imports_of(path, name, known):
            if target != name:
                graph[name].setdefault(target, f"{where}:{line}")
    return graph


def package_of(module: str) -> str:
    """podium.planner.router.text -> podium.planner; podium.agent -> podium.agent."""
    parts = module.split(".")
    if len(parts) > 1 and (ROOT / parts[1]).is_dir():
        return ".".join(parts[:2])
    return module


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {}
    for module, targets in graph.items():
        for target, where in targets.items():
            source, destination = package_of(module), package_of(target)
            packages.setdefault(source, {})
            if source != destination:
                packages[source].setdefault(destination, f"{where} ({module} -> {target})")
    return packages


def cycle_in(graph: Graph) -> list[str] | None:
    """One cycle of the graph as the path around it, or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, {}))))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return [*path[path.index(child) :], child]
            elif child not in done:
                stack.append((child, iter(sorted(graph.get(child, {})))))
                path.append(child)
                on_path.add(child)
    return None


def described(graph: Graph, cycle: list[str]) -> str:
    return "\n".join(f"  {a} -> {b}  at {graph[a][b]}" for a, b in itertools.pairwise(cycle))


def test_no_module_imports_itself_in_a_circle() -> None:
    graph = module_graph()
    cycle = cycle_in(graph)
    assert cycle is None, "import circle:\n" + described(graph, cycle)


def test_packages_depend_one_way() -> None:
    packages = package_graph(module_graph())
    cycle = cycle_in(packages)
    assert cycle is None, "packages that depend on each other:\n" + described(packages, cycle)


def test_the_checks_find_a_circle_and_say_where() -> None:
    graph: Graph = {"a": {"b": "a.py:1"}, "b": {"c": "b.py:2"}, "c": {"a": "c.py:3"}, "d": {}}
    assert cycle_in(graph) == ["a", "b", "c", "a"]
    assert "c -> a  at c.py:3" in described(graph, ["a", "b", "c", "a"])
    assert cycle_in({"a": {"b": ""}, "b": {}}) is None


def test_lazy_and_type_only_imports_count(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from podium.agent import Agent\n"
        "def later():\n"
        "    from podium.planner import router\n"
    )
    found = dict(imports_of(source, "podium.sample", module_names()))
    assert found == {"podium.agent": 3, "podium.planner.router": 5}


def test_the_public_face_loads_nothing_until_a_name_is_used() -> None:
    probe = (
        "import sys, podium\n"
        "print(sorted(m for m in sys.modules if m.startswith('podium')))\n"
        "from podium import Agent, Policy, Principal, tool\n"
        "assert {Agent.__module__, Principal.__module__} == {'podium.agent', 'podium.identity'}\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert output.strip() == "['podium']"
