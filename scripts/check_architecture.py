"""Check the package's architecture contract beyond what import-linter's layers say.

The floors themselves (which folder may import which) are an import-linter contract in
``pyproject.toml`` (run ``lint-imports``). This script checks the rest of the house rules:

1. **No import cycles** between modules, lazy imports inside functions included (the graph
   is import-linter's own, from ``grimp``).
2. **Private names stay home**: a private module (a path component starting with ``_``, not a
   dunder) is imported only from inside the folder that holds it: ``softmaxkit._base`` by the
   whole package (it is the package's internal floor, with public names inside),
   ``softmaxkit.cli._args`` only by ``softmaxkit/cli``. A private *name* (``_x``) is used by
   other modules only inside its own sub-folder: ``softmaxkit.cli._stream._Progress`` by
   modules of ``softmaxkit/cli``; a private name of a top-level module such as
   ``softmaxkit.inverse`` by no other module at all (what two top-level modules share
   belongs in ``_base`` under a public name).
3. **No long files**: no module over :data:`MAX_LINES` lines.

Exceptions are listed in :data:`ALLOWED_IMPORTS` with the reason, and nowhere else.

Run ``python scripts/check_architecture.py``; it prints one line per finding and exits 1 if
there is any, 0 otherwise (printing a one-line summary).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "softmaxkit"
MAX_LINES = 1200

# (importer, imported): why this import is allowed although it runs against the rules.
# (Empty: an upper floor is reached from below only by module name, through the plug-in
# points of softmaxkit/_base/dispatch.py.)
ALLOWED_IMPORTS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    """``softmaxkit/cli/_args.py`` -> ``softmaxkit.cli._args`` (packages without __init__)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def folder_of(module: str, is_package: bool) -> str:
    """The folder (as a dotted package) a module lives in; a package is its own folder."""
    return module if is_package else module.rpartition(".")[0]


def is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def private_home(target: str) -> str | None:
    """For a dotted module path, the folder that may use it, if a component is private."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if is_private(part):
            return ".".join(parts[:i])
    return None


def inside(module: str, folder: str) -> bool:
    return module == folder or module.startswith(folder + ".")


def may_share(module: str, folder: str) -> bool:
    """Whether ``module`` may use a private name defined in ``folder`` (a sub-folder only)."""
    return folder != PACKAGE and inside(module, folder)


def imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str, str]]:
    """(line, module imported, name taken from it or "") for every import in ``tree``."""
    base = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ""
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                src = ".".join(anchor + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for alias in node.names:
                yield node.lineno, src, alias.name


def check_private(mods: dict[str, Path]) -> list[str]:
    problems = []
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # names bound to one of our modules, for attribute access such as ``sparse._solve``
        module_aliases: dict[str, str] = {}
        for line, src, name in imported(tree, mod, is_pkg):
            if not src.startswith(PACKAGE):
                continue
            full = f"{src}.{name}" if name and f"{src}.{name}" in mods else src
            if name and full != src:
                module_aliases[name] = full
            home = private_home(full)
            if home is not None and not inside(mod, home):
                problems.append(f"{path.relative_to(ROOT)}:{line}: imports private {full}")
            if name and full == src and is_private(name):
                target_is_pkg = mods.get(src, Path()).name == "__init__.py"
                home = folder_of(src, target_is_pkg)
                if src != mod and not may_share(mod, home):
                    problems.append(
                        f"{path.relative_to(ROOT)}:{line}: imports private name {name} of {src}"
                    )
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and is_private(node.attr)
            ):
                src = module_aliases[node.value.id]
                target_is_pkg = mods[src].name == "__init__.py"
                if src != mod and not may_share(mod, folder_of(src, target_is_pkg)):
                    problems.append(
                        f"{path.relative_to(ROOT)}:{node.lineno}: uses private "
                        f"{src}.{node.attr}"
                    )
    return problems


def check_cycles() -> list[str]:
    import grimp

    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for m in graph.modules:
        for t in graph.find_modules_directly_imported_by(m):
            if (m, t) not in ALLOWED_IMPORTS:
                edges[m].add(t)
    return [
        "import cycle: " + " -> ".join(sorted(c))
        for c in strongly_connected(edges)
        if len(c) > 1
    ]


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is small, but recursion limits are not)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)
    return out


def check_lengths(mods: dict[str, Path]) -> list[str]:
    problems = []
    for path in mods.values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            problems.append(f"{path.relative_to(ROOT)}: {n} lines (at most {MAX_LINES})")
    return problems


def main() -> int:
    mods = modules()
    problems = check_lengths(mods) + check_private(mods) + check_cycles()
    for p in problems:
        print(p)
    if problems:
        print(f"architecture: {len(problems)} problem(s)")
        return 1
    largest = max(mods.values(), key=lambda p: len(p.read_text(encoding="utf-8").splitlines()))
    n = len(largest.read_text(encoding="utf-8").splitlines())
    print(
        f"architecture: {len(mods)} modules, no import cycle, no private name used outside its "
        f"folder, largest file {largest.relative_to(ROOT)} ({n} lines)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
