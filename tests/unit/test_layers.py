"""The package import graph under src/paybutton points one way (issue 12, "Layers that point one way").

Every module is parsed with `ast` (nothing is imported); an edge joins two top-level names under paybutton (a
package such as `order`, or a module such as `errors`) when a module of one imports the other, wherever the
import statement stands (module level, in a function, under TYPE_CHECKING). Then:
- each edge goes down or sideways as LAYERS allows (a domain only to a domain declared before it in DOMAINS);
- the graph has no cycle.
A failure prints every offending import as file:line  from -> to."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = SRC / "paybutton"

# Lowest first. A name may import its own layer (but see DOMAINS) and every layer below it.
BASE = {"errors", "clock", "money", "ids", "config", "inputs", "tables", "tables_base", "tables_money", "tables_trade",
        "tables_ops",
        "db", "buyer_token", "loop", "b64url",
        "payment_state", "i18n", "audit", "inuse", "distribution",
        "telemetry"}  # metrics, request ids and log lines: every layer counts and logs through it
CASHIER = {"cashier"}  # payment channel adapters: base only
KERNEL = {"kernel"}  # the shared HTTP kernel: base and cashier, no domain
CONTEXT = {"context"}  # the per-process context: base, cashier, kernel
# The domains form a DAG in this declared order: a domain imports only the ones before it.
DOMAINS = ("ledger", "merchant", "apps", "goods", "callbacks", "marketing", "order", "refund", "fulfillment",
           "settle", "booking", "recon", "toolkit", "devorders")
SURFACES = {"api", "pages", "console"}  # nothing below imports them
TOP = {"paybutton", "app", "workers", "cli", "clikit", "demo", "docsgen", "migrations"}  # composition roots

LAYERS: list[set[str]] = [BASE, CASHIER, KERNEL, CONTEXT, set(DOMAINS), SURFACES, TOP]


def layer_of(name: str) -> int:
    for i, names in enumerate(LAYERS):
        if name in names:
            return i
    raise AssertionError(f"paybutton.{name} is in no layer: add it to LAYERS in {Path(__file__).name}")


def allowed(src: str, dst: str) -> bool:
    a, b = layer_of(src), layer_of(dst)
    if a != b:
        return b < a
    if src in DOMAINS:
        return DOMAINS.index(dst) < DOMAINS.index(src)
    return True


def _module_parts(path: Path) -> list[str]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _targets(node: ast.AST, parts: list[str], is_package: bool) -> list[str]:
    """The dotted paybutton modules an import statement names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = parts if is_package else parts[:-1]
        base = base[: len(base) - (node.level - 1)]
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    if module == "paybutton":  # from paybutton import ids, errors
        return [f"paybutton.{a.name}" for a in node.names]
    return [module]


Edge = tuple[str, str]


def import_edges() -> dict[Edge, list[str]]:
    """(from, to) -> the imports that make it, as file:line."""
    edges: dict[Edge, list[str]] = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        parts = _module_parts(path)
        src = parts[1] if len(parts) > 1 else "paybutton"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, parts, path.name == "__init__.py"):
                bits = target.split(".")
                if bits[0] != "paybutton" or len(bits) < 2 or bits[1] == src:
                    continue
                edges[(src, bits[1])].append(f"{path.relative_to(SRC.parent)}:{node.lineno}")
    return edges


def _report(edges: dict[Edge, list[str]], wrong: list[Edge]) -> str:
    return "\n".join(f"  {where}  {a} -> {b}" for a, b in sorted(wrong) for where in edges[(a, b)])


def _cycles(edges: dict[Edge, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph[b]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_package_has_a_layer() -> None:
    names = {a for a, _ in import_edges()} | {b for _, b in import_edges()}
    unknown = sorted(n for n in names if not any(n in layer for layer in LAYERS))
    assert not unknown, f"packages in no layer: {unknown}"


def test_imports_point_down_the_layers() -> None:
    edges = import_edges()
    wrong = [e for e in edges if not allowed(*e)]
    assert not wrong, "imports against the layering (base < cashier < kernel < context < domains < surfaces < top; " \
        f"domains in the order {' < '.join(DOMAINS)}):\n{_report(edges, wrong)}"


def _shortest_cycle(edges: dict[Edge, list[str]], component: list[str]) -> list[Edge]:
    """One shortest cycle through the component, as its edges."""
    inside = {e for e in edges if e[0] in component and e[1] in component}
    best: list[Edge] = []
    for a, b in sorted(inside):
        paths: dict[str, list[Edge]] = {b: []}
        frontier = [b]
        while frontier and a not in paths:
            nxt = []
            for v in frontier:
                for x, y in sorted(inside):
                    if x == v and y not in paths:
                        paths[y] = [*paths[v], (x, y)]
                        nxt.append(y)
            frontier = nxt
        if a in paths and (not best or len(paths[a]) + 1 < len(best)):
            best = [(a, b), *paths[a]]
    return best


def test_no_cycle_between_packages() -> None:
    edges = import_edges()
    cycles = _cycles(edges)
    lines = []
    for component in cycles:
        cycle = _shortest_cycle(edges, component)
        lines.append(f"packages {' / '.join(component)} import each other; one cycle: "
                     f"{' -> '.join([a for a, _ in cycle] + [cycle[0][0]])}\n{_report(edges, cycle)}")
    assert not cycles, "\n".join(lines)


@pytest.mark.parametrize(("src", "dst", "ok"), [
    ("order", "kernel", True), ("api", "order", True), ("order", "api", False), ("kernel", "apps", False),
    ("context", "order", False), ("refund", "order", True), ("order", "refund", False), ("cashier", "kernel", False),
])
def test_the_rule_itself(src: str, dst: str, ok: bool) -> None:
    assert allowed(src, dst) is ok


MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_files_and_functions_stay_short() -> None:
    """Issue 12's size rule: no module over 400 lines, no function over 60, outside migrations."""
    long: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(SRC)
        if text.count("\n") > MAX_FILE_LINES:
            long.append(f"{rel}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel}:{node.lineno} {node.name}: {n} lines")
    assert not long, "\n".join(long)
