"""No import cycle in nn_tilde: module-level and function-level imports both count (a lazy import
inside a function is still a cycle in the design), imports under `if TYPE_CHECKING:` do not (they
never run), nor does a module's dependence on its own parent packages (Python initialises those
first). The training registry's trainer modules, imported with importlib, count as imports of
registry.py."""

from __future__ import annotations

import ast
from pathlib import Path

import nn_tilde
from nn_tilde.train.registry import MODEL_TYPES

PACKAGE = Path(nn_tilde.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = f
    return out


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the nn_tilde modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            for t in targets:
                ancestor = name.startswith(t + ".")
                if t in modules and t != name and not ancestor:
                    graph[name].add(t)
    for entry in MODEL_TYPES:
        graph["nn_tilde.train.registry"].add(entry.trainer)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search, white/grey/black)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*path[path.index(n) :], n]
            if n not in state and (cycle := visit(n)):
                return cycle
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_the_finder_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_function_level_and_registry_imports() -> None:
    graph = import_graph()
    assert "nn_tilde.train.autoencoder" in graph["nn_tilde.train.registry"]
    # cli imports the kit inside its command functions only
    assert "nn_tilde.train.config" in graph["nn_tilde.cli"]


def test_no_import_cycle_in_nn_tilde() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_models_hold_architectures_only() -> None:
    """nn_tilde.models imports no training, evaluation, CLI or bench code (they build on it)."""
    graph = import_graph()
    above = (
        "nn_tilde.train",
        "nn_tilde.evaluate",
        "nn_tilde.cli",
        "nn_tilde.bench",
        "nn_tilde.check",
    )
    bad = {
        m: sorted(t for t in targets if t.startswith(above))
        for m, targets in graph.items()
        if m.startswith("nn_tilde.models")
    }
    assert not {m: t for m, t in bad.items() if t}, bad


def test_only_the_cli_modules_parse_arguments() -> None:
    """Library functions take typed arguments; the CLI modules (nn_tilde.cli*) turn arguments into
    calls. A module that imports argparse (for an `argparse.Namespace` parameter) breaks that."""
    users = []
    for name, path in _modules().items():
        if name.rpartition(".")[2].startswith("cli") or name == "nn_tilde.__main__":
            continue
        for node in _imports(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            if "argparse" in names:
                users.append(name)
    assert users == [], f"argparse outside the CLI modules: {users}"
