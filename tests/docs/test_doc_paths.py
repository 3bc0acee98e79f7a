"""Every path the README's *Layout* and docs/architecture.md name exists (and every `module.name` the
architecture page names is defined there), and a package whose Layout line lists its files lists all of them:
a file moved, renamed or added shows up here instead of leaving the map wrong."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "paybutton"
FILE = re.compile(r"(?<![/\w.*-])[\w*.-]+\.(?:py|js|css|html|sql|md|po)\b")
# A package line of the Layout: two spaces, the package and its slash, then what it holds.
PACKAGE = re.compile(r"^  (\w+)/\s")


def _layout() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    return block.splitlines()


def _packages() -> dict[str, list[str]]:
    """Each package of src/paybutton/ the Layout describes, with the text that describes it (continuations too)."""
    out: dict[str, list[str]] = {}
    current = ""
    in_src = False
    for line in _layout():
        if line.startswith("src/paybutton/"):
            in_src, current = True, ""
            continue
        if not line.startswith(" "):
            in_src = False
        if not in_src:
            continue
        m = PACKAGE.match(line)
        if m:
            current = m.group(1)
        out.setdefault(current, []).append(line[len(current) + 3:] if m else line)
    return out


def _exists(base: Path, name: str) -> bool:
    return any(base.glob(name)) if "*" in name else (base / name).exists()


def _missing_in(package: str, lines: list[str]) -> list[str]:
    base = SRC / package if package else SRC
    missing = []
    for line in lines:
        subdirs = [base / d for d in re.findall(r"\b(\w+)/(?=[\s(]|$)", line)]
        for name in FILE.findall(line.split("#")[0]):
            if not any(_exists(d, name) for d in (base, *subdirs, SRC)):
                missing.append(f"{package}/{name}")
        for path in re.findall(r"\b(\w+/[\w/*.-]+\.(?:py|js|md))\b", line):
            if not (_exists(SRC, path) or _exists(ROOT, path)):
                missing.append(path)
    return missing


def test_layout_paths_exist() -> None:
    missing = [m for package, lines in _packages().items() for m in _missing_in(package, lines)]
    tops = [line.split()[0] for line in _layout() if line and not line.startswith(" ")]
    missing += [t for t in tops if not (ROOT / t).exists()]
    assert not missing, f"README's Layout names what does not exist: {missing}"


def test_layout_lists_every_module_of_a_package_it_lists_files_of() -> None:
    """A package line that names files names every module of the package (its __init__.py aside)."""
    unnamed = []
    for package, lines in _packages().items():
        if not package:
            continue
        named = " ".join(lines)
        listed = {n for n in FILE.findall(named) if n.endswith(".py")}
        if not listed:
            continue
        for module in sorted((SRC / package).glob("*.py")):
            if module.name in ("__init__.py", "__main__.py"):
                continue
            if not any(Path(module.name).match(n) or f"{package}/{module.name}" in named for n in listed):
                unnamed.append(f"{package}/{module.name}")
    assert not unnamed, f"README's Layout leaves out: {unnamed}"


def test_architecture_paths_and_names_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.split("(")[0]
        if FILE.fullmatch(token.split("/")[-1]) and "/" in token:
            if not ((SRC / token).exists() or (ROOT / token).exists()):
                missing.append(token)
        elif FILE.fullmatch(token):
            if not ((SRC / token).exists() or any(SRC.rglob(token))):
                missing.append(token)
        elif re.fullmatch(r"\w+(/\w+)+\.\w+", token):  # module.name, e.g. order/placing._ask_merchant
            path, name = token.rsplit(".", 1)
            if not (SRC / f"{path}.py").exists():
                missing.append(token)
                continue
            module = importlib.import_module("paybutton." + path.replace("/", "."))
            if not hasattr(module, name):
                missing.append(token)
    assert not missing, f"docs/architecture.md names what does not exist: {missing}"
