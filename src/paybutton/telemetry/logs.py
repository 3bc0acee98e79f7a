"""Request ids and log lines.

Every request has one id: the proxy's `X-Request-Id` when it is sane (8 to 40 characters of letters, digits and
`._:-`), else a new one in the platform's logid form. It is the answer's `X-Request-Id` and `x-tt-logid`, the
buyer's `errLogId` and the OpenAPI's `extra.logid` (kernel/envelope.py reads it from the scope), and every log
line written while the request runs carries it (a contextvar, copied into tasks the request starts).

`PAYBUTTON_LOG_FORMAT=json` writes one JSON object per line (time, level, logger, message, request_id, the
record's extra fields, the traceback); `text` (the default) writes plain lines, with the id in brackets."""

from __future__ import annotations

import json
import logging
import re
import time
from contextvars import ContextVar
from typing import Any

from paybutton import ids

REQUEST_ID: ContextVar[str] = ContextVar("paybutton_request_id", default="")
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,40}")
# What a LogRecord carries by itself: everything else in its __dict__ came from `extra=` and goes in the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id",
                                                                        "color_message", "taskName"}


def request_id_from(header: str | None) -> str:
    """The proxy's id when it is sane, else a new one."""
    if header and _SANE.fullmatch(header):
        return header
    return ids.logid()


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (`request_id`, "" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or REQUEST_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """The logging configuration (logging.config.dictConfig) `paybutton serve` hands to uvicorn, which applies it
    in every worker: one stderr handler with the request id filter, for uvicorn's loggers and paybutton's."""
    formatter: dict[str, Any] = ({"()": f"{__name__}.JsonFormatter"} if fmt == "json"
                                 else {"format": TEXT_FORMAT})
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                 "formatter": "default", "filters": ["request_id"]}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": lvl, "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": lvl, "propagate": False},
            "uvicorn.access": {"handlers": ["default"], "level": lvl, "propagate": False},
            "paybutton": {"handlers": ["default"], "level": lvl, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
