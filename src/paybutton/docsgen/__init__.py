"""Generated documentation: docs/errors.md from the error registry and docs/callbacks.md from the server's own
callback body builders, retry schedules and settings. `paybutton docs errors|callbacks [--check]` writes or
checks them; a test keeps the committed files equal to what this package generates.

markdown.py has the table helper, errors.py the error table, examples.py the example rows and messages (built by
the server's own code), kinds.py one entry per callback type, callbacks.py the catalogue page."""

from __future__ import annotations

from collections.abc import Callable

from paybutton.docsgen.callbacks import callbacks_markdown
from paybutton.docsgen.errors import errors_markdown

DOCS = {"errors": "docs/errors.md", "callbacks": "docs/callbacks.md"}

GENERATORS: dict[str, Callable[[], str]] = {"errors": errors_markdown, "callbacks": callbacks_markdown}

__all__ = ["DOCS", "GENERATORS", "callbacks_markdown", "errors_markdown"]
