"""docs/: the generated files equal what the code generates (they cannot drift), every link resolves, every
server path the docs name is a route of the app, and every `paybutton …` command they show exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from paybutton import docsgen
from paybutton.app import create_app
from paybutton.cli import cli
from paybutton.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
STATIC = ROOT / "src" / "paybutton" / "pages" / "static"
WRITTEN = ["integration-guide.md", "sequences.md", "callbacks.md", "errors.md", "openapi.md"]
runner = CliRunner()


@pytest.mark.parametrize("name", sorted(docsgen.GENERATORS))
def test_generated_docs_are_committed_as_generated(name: str) -> None:
    committed = (ROOT / docsgen.DOCS[name]).read_text(encoding="utf-8")
    assert committed == docsgen.GENERATORS[name](), f"run `paybutton docs {name}` and commit {docsgen.DOCS[name]}"


def test_docs_check_command(tmp_path: Path) -> None:
    out = tmp_path / "errors.md"
    assert runner.invoke(cli, ["docs", "errors", "--check", "--out", str(out)]).exit_code == 1
    wrote = runner.invoke(cli, ["docs", "errors", "--out", str(out)])
    assert wrote.exit_code == 0 and out.read_text(encoding="utf-8") == docsgen.errors_markdown()
    assert runner.invoke(cli, ["docs", "errors", "--check", "--out", str(out)]).exit_code == 0
    out.write_text(out.read_text(encoding="utf-8").replace("21518", "21519"), encoding="utf-8")
    stale = runner.invoke(cli, ["docs", "errors", "--check", "--out", str(out)])
    assert stale.exit_code == 1 and "out of date" in stale.stderr


def test_the_errors_table_has_every_code() -> None:
    text = docsgen.errors_markdown()
    from paybutton.errors import REGISTRY

    for spec in REGISTRY.values():
        assert f"| `{spec.name}` |" in text
    assert "| 21547 | DIRECT_LINK_EXTRA_FAILED |" in text


def test_the_catalogue_has_every_type_with_its_exact_body() -> None:
    text = docsgen.callbacks_markdown()
    from paybutton.callbacks.body import IDENTIFY_NAMES

    for kind in IDENTIFY_NAMES:
        assert f"## `{kind}`" in text and f'{{"version":"2.0","type":"{kind}","msg":"' in text, kind


def _links(text: str) -> list[str]:
    return [m for m in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", m)]


def _anchors(text: str) -> set[str]:
    out = set()
    for h in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


@pytest.mark.parametrize("name", [*WRITTEN, "../README.md"])
def test_links_resolve(name: str) -> None:
    page = (DOCS / name).resolve()
    for link in _links(page.read_text(encoding="utf-8")):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{name}: {link} does not exist"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path.read_text(encoding="utf-8")), f"{name}: no #{anchor} in {target}"


def _route_shapes() -> set[str]:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///unused.db"))
    shapes = set()
    routes: list[tuple[str, Any]] = [("", r) for r in app.routes]
    while routes:
        prefix, r = routes.pop()
        inner = getattr(r, "original_router", None)  # FastAPI keeps included routers whole (nested ones too)
        if inner is not None:
            routes += [(prefix + r.include_context.prefix, x) for x in inner.routes]
            continue
        path = getattr(r, "path", None)
        if isinstance(path, str):
            shapes.add(re.sub(r"\{[^}]*\}", "{}", prefix + path))
    return shapes


SERVER_PATH = re.compile(r"(?<![\w:/.])/(?:api|oauth|pages|static|console|healthz|openapi\.json|docs)\b[\w/{}.\-]*")
# a bare trade call (`order/query_order`), not a piece of a Douyin doc URL (`…/pre-order/create-order`)
TRADE_ROUTE = re.compile(r"(?<![\w/.-])((?:order|refund|settle|book|toolkit|marketing|fulfillment|goods|callbacks)"
                         r"/[a-z_]+)(?![\w.-])")
TRADE_PREFIXES = ("/api/apps/trade/v2/", "/api/trade/v2/")  # Douyin serves a few calls without `/apps/`


@pytest.mark.parametrize("name", WRITTEN)
def test_every_server_path_in_the_docs_exists(name: str) -> None:
    routes = _route_shapes()
    text = (DOCS / name).read_text(encoding="utf-8").replace("https://pay.example", "")
    seen = 0
    for raw in SERVER_PATH.findall(text):
        path = re.sub(r"\{[^}]*\}", "{}", raw.rstrip("/.").split("?")[0])
        seen += 1
        if path.startswith("/static/"):
            assert (STATIC / path.removeprefix("/static/")).is_file(), f"{name}: {raw}"
        elif raw.endswith("/"):  # a prefix (`/api/buyer/v1/…`) or a platform path with its trailing slash
            assert path in routes or any(r.startswith(raw) for r in routes), f"{name}: no route under {raw}"
        else:
            assert path in routes, f"{name}: {raw} is not a route"
    for route in TRADE_ROUTE.findall(text):
        seen += 1
        assert any(p + route in routes for p in TRADE_PREFIXES), f"{name}: {route} is not an OpenAPI route"
    assert seen, f"{name} names no server path at all?"


def _commands(text: str) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    snippets = re.findall(r"`(paybutton [^`]+)`", text)
    for block in re.findall(r"```sh[^\n]*\n(.*?)```", text, flags=re.S):
        snippets += [ln.strip() for ln in block.splitlines() if re.match(r"\s*(\S*/)?paybutton ", ln)]
    for snippet in snippets:
        words = re.sub(r"^.*?paybutton ", "", snippet).split()
        cmd = []
        for w in words[:2]:
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            cmd.append(w)
        found.add(tuple(cmd))
    return found


@pytest.mark.parametrize("name", [*WRITTEN, "../README.md"])
def test_every_command_in_the_docs_exists(name: str) -> None:
    root = typer.main.get_command(cli)
    commands = _commands((DOCS / name).read_text(encoding="utf-8"))
    for cmd in commands:
        node = root
        for word in cmd:
            subcommands = getattr(node, "commands", None)
            if subcommands is None:
                break  # a leaf command: the next word is its argument (`paybutton verify CODE`)
            assert word in subcommands, f"{name}: `paybutton {' '.join(cmd)}` is not a command"
            node = subcommands[word]


def test_sequence_diagrams_are_mermaid_that_parses() -> None:
    """The five journeys (purchase, payment attempts, refund, verification, settlement), each a Mermaid
    sequenceDiagram, free of what breaks Mermaid's parser (a `;` ends a statement, `#` starts an entity, a
    stray `<tag>` is swallowed as HTML). They were rendered with Mermaid 11."""
    text = (DOCS / "sequences.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert [b.splitlines()[0] for b in blocks] == ["sequenceDiagram"] * 5
    for b in blocks:
        body = b.replace("<br/>", "")
        assert ";" not in body and "#" not in body and not re.search(r"<[a-zA-Z/]", body)
        opened = len(re.findall(r"^\s*(?:alt|opt|loop)\b", b, flags=re.M))
        assert opened == len(re.findall(r"^\s*end\s*$", b, flags=re.M)), "every alt/opt/loop has its end"
    for step in ("pre_create_order", "payment notify", "pre_create_refund", "merchant_audit_callback",
                 "refund notify", "fulfillment/delivery_prepare", "fulfillment/delivery_verify", "consume event",
                 "INSERT attempt PROCESSING", "POST /pay/notify/{provider}/{app_id}", "query(out_trade_no)",
                 "settle/create_settle", "settle callback"):
        assert step in text, step
