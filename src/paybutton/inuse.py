"""Who has a SQLite database open: every paybutton server process (`serve` and each of its workers, `demo`: the
app's Database, app.py) holds a shared `flock` on the sidecar file `<database>-inuse` for as long as it runs, and
`paybutton db restore` takes it exclusively, without waiting, before it touches the file. (The CLI's short commands
do not claim: a command that only looks must leave the folder as it was; restore's exclusive SQLite lock covers a
command caught writing.)

Why a flock and not a PID file or a lease row: the kernel drops it when the process ends, however it ends (a
SIGKILL leaves no stale claim and a reused PID fools nothing), it needs no clock, and it holds across containers
that share the volume. It is a separate file because SQLite's own locks on the database file are POSIX record
locks, which one careless close() in the same process would release (https://www.sqlite.org/howtocorrupt.html,
section 2.2); the sidecar is never opened by SQLite."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SUFFIX = "-inuse"


def sidecar(database: Path) -> Path:
    return database.with_name(database.name + SUFFIX)


def hold(database: Path) -> int | None:
    """Hold the shared claim on `database` (waits while a restore has it); the fd to close, or None when the folder
    cannot take the sidecar (read-only: nothing can restore over it either)."""
    try:
        fd = os.open(sidecar(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def take_exclusive(database: Path) -> int | None:
    """The exclusive claim, at once; None when a paybutton process has the database open."""
    fd = os.open(sidecar(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
