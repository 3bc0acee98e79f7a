"""`paybutton serve --workers 2` with PROMETHEUS_MULTIPROC_DIR: whichever worker answers /metrics, it answers the
sum of both workers' counts (prometheus-client's multi-process mode), and the folder holds both workers' files."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from listening import listening_socket, port_of
from prometheus_client.parser import text_string_to_metric_families
from served import start, stop

TOKEN = "two-workers-token"


def _healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "paybutton_http_requests_total" and s.labels["route"] == "/healthz":
                return s.value
    return 0.0


def test_every_worker_answers_the_sum_of_all(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    (folder).mkdir()
    (folder / "counter_999999.db").write_bytes(b"a dead run's file")  # serve empties the folder first
    sock, log = listening_socket(), tmp_path / "serve.log"
    proc = start(db_url, sock, log, "--workers", "2", PAYBUTTON_METRICS_TOKEN=TOKEN,
                 PROMETHEUS_MULTIPROC_DIR=str(folder))
    url = f"http://127.0.0.1:{port_of(sock)}"
    try:
        def get(path: str, **headers: str) -> httpx.Response:
            with httpx.Client(trust_env=False, timeout=10) as one:  # a new connection: any worker may take it
                return one.get(url + path, headers=headers)

        def settled() -> float:
            """The /healthz count once two scrapes 0.2 s apart agree: start()'s polls that gave up on a loaded
            machine may still be answered (and counted) after it returned (CI: 6, then 8)."""
            last = _healthz_count(get("/metrics", Authorization=f"Bearer {TOKEN}").text)
            for _ in range(50):
                time.sleep(0.2)
                now = _healthz_count(get("/metrics", Authorization=f"Bearer {TOKEN}").text)
                if now == last:
                    return now
                last = now
            raise AssertionError("the /healthz count never settled")

        base = settled()
        scraped = []
        for _ in range(20):
            assert get("/healthz").status_code == 200
        for _ in range(6):
            r = get("/metrics", Authorization=f"Bearer {TOKEN}")
            scraped.append(_healthz_count(r.text))
        pids = {p.name.rsplit("_", 1)[1] for p in folder.glob("counter_*.db")}
    finally:
        stop(proc, log)
        sock.close()
    assert base >= 1  # start() polled /healthz until it answered
    assert scraped == [base + 20] * 6, (base, scraped)
    assert "999999.db" not in pids and len(pids) >= 2, pids
