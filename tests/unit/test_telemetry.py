"""telemetry/logs.py and serve's metrics folder, without a server: which X-Request-Id is kept, what one JSON log
line holds, the text line, and PROMETHEUS_MULTIPROC_DIR emptied (or made) before the workers start."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from paybutton.cli.running import metrics_dir
from paybutton.telemetry.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, log_config, request_id_from


@pytest.mark.parametrize("given", ["edge-7f3a9c21", "550e8400-e29b-41d4-a716-446655440000", "a.b:c_d-12345678",
                                   "x" * 40])
def test_a_sane_request_id_is_kept(given: str) -> None:
    assert request_id_from(given) == given


@pytest.mark.parametrize("given", [None, "", "short", "x" * 41, "bad id", "<script>12345", "line\nbreak1234",
                                   "ünïcode-12345"])
def test_anything_else_gets_a_new_one(given: str | None) -> None:
    made = request_id_from(given)
    assert made != given and len(made) == 26 and request_id_from(made) == made


def _record(logger: str, msg: str, **extra: object) -> logging.LogRecord:
    record = logging.getLogger(logger).makeRecord(logger, logging.INFO, __file__, 1, msg, (), None, extra=extra)
    RequestIdFilter().filter(record)
    return record


def test_a_json_line_carries_the_request_id_and_the_extra_fields() -> None:
    config = log_config("json", "info")
    assert config["formatters"]["default"] == {"()": "paybutton.telemetry.logs.JsonFormatter"}
    assert config["handlers"]["default"]["filters"] == ["request_id"]
    formatter = JsonFormatter()
    token = REQUEST_ID.set("edge-req-000001")
    try:
        line = formatter.format(_record("paybutton.order", "order refused: %s", app_id="tt1", errNo=21517))
    finally:
        REQUEST_ID.reset(token)
    got = json.loads(line)
    assert got["request_id"] == "edge-req-000001" and got["message"] == "order refused: %s"
    assert (got["app_id"], got["errNo"], got["level"], got["logger"]) == ("tt1", 21517, "INFO", "paybutton.order")
    assert got["time"].endswith("Z") and "\n" not in line
    outside = json.loads(formatter.format(_record("paybutton.workers", "timed out %d", n=3)))
    assert outside["request_id"] == ""


def test_text_lines_show_the_request_id_in_brackets() -> None:
    formatter = logging.Formatter(log_config("text", "info")["formatters"]["default"]["format"])
    token = REQUEST_ID.set("edge-req-000002")
    try:
        line = formatter.format(_record("paybutton", "hello"))
    finally:
        REQUEST_ID.reset(token)
    assert line.endswith("INFO paybutton [edge-req-000002] hello")


def test_serve_empties_the_given_metrics_folder_or_makes_one(tmp_path: Path) -> None:
    (tmp_path / "counter_1.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    assert metrics_dir(env) == str(tmp_path) and sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    made: dict[str, str] = {}
    folder = Path(metrics_dir(made))
    try:
        assert made["PROMETHEUS_MULTIPROC_DIR"] == str(folder) and folder.is_dir()
    finally:
        folder.rmdir()
