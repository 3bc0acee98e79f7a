"""Optional profiling of the server during a scenario with py-spy (`--py-spy DIR`): a flame graph per scenario
and the functions where the server spends its time (by own samples and by paybutton frames on the stack)."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path


def py_spy_binary() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def argv(pid: int, seconds: float, out: Path) -> list[str]:
    exe = py_spy_binary()
    if exe is None:
        raise SystemExit("--py-spy needs py-spy: .venv/bin/python -m pip install py-spy (not a project dependency)")
    return [exe, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--gil", "--duration",
            str(max(1, int(seconds))), "--format", "raw", "--output", str(out)]


def summarise(raw: Path, top: int = 15) -> str:
    """Top frames by own samples and the paybutton frames by inclusive samples, from py-spy's raw output."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        own[_short(frames[-1])] += n
        for f in {_short(f) for f in frames if "paybutton" in f or "sqlalchemy" in f or "httpx" in f}:
            incl[f] += n
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples; own time:"]
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  inclusive (paybutton, sqlalchemy, httpx frames):")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in incl.most_common(top)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"
    name, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    parts = file.split("/")
    return f"{name} ({'/'.join(parts[-2:])})"
