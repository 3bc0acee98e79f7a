"""docs/errors.md: the error table, generated from the registry in src/paybutton/errors.py."""

from __future__ import annotations

from paybutton.docsgen.markdown import table
from paybutton.errors import REGISTRY, SEED_CODES


def errors_markdown() -> str:
    """docs/errors.md: every error of src/paybutton/errors.py, the seed's table first."""
    seed = [[code, s.name, s.zh, s.en] for code, s in sorted(SEED_CODES.items())]
    every = [[f"`{s.name}`", s.err_no if s.err_no is not None else "—", s.error_code, s.sub_error_code,
              s.http_status, s.zh, s.en] for s in REGISTRY.values()]
    return "\n".join([
        "# Error codes",
        "",
        "<!-- Generated from src/paybutton/errors.py by `paybutton docs errors`; do not edit by hand. -->",
        "",
        "Every error the server, the pay-button and the hosted pages can report comes from one registry,",
        "`src/paybutton/errors.py`, which is also served as JSON at `GET /api/errors`. Each error has:",
        "",
        "- **errNo**: the code the pay-button passes to `bind:error` (`event.detail.errNo`) and the buyer API",
        "  answers as `errNo` in `{errNo, errMsg, errLogId, error, detail}` (the seed's table; `—` when the",
        "  component never sees the error: the buyer API then answers the OpenAPI `error_code` as `errNo`);",
        "- **error_code / sub_error_code**: what the platform OpenAPI (`/api/apps/trade/v2/…`, `/oauth/…`) puts in",
        "  `extra.error_code` and `extra.sub_error_code` (reference §18), always with HTTP 200; `extra.description`",
        "  is the zh-CN text and `extra.sub_description` the English one, each followed by the detail;",
        "- **HTTP**: the status of the buyer API (`/api/buyer/v1/…`) and the pages for this error;",
        "- **zh-CN / en**: the messages.",
        "",
        "## The seed's pay-button codes",
        "",
        table(["errNo", "name", "zh-CN (the seed's meaning)", "en"], seed),
        "",
        "## Every error, by name",
        "",
        table(["name", "errNo", "error_code", "sub_error_code", "HTTP", "zh-CN", "en"], every),
        "",
    ])
