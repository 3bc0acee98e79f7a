"""`paybutton statement --app APP --from DATE --to DATE [--csv FILE]`: an app's statement from the ledger (issue
21) for Beijing calendar days FROM..TO (both included): opening balance, paid in, refunded, settled, fees,
closing balance; with --csv, one row per ledger line (ledger/statement_csv.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from paybutton import clikit
from paybutton.clikit import DatabaseOpt, JsonFlag
from paybutton.db import Database
from paybutton.ledger.statement import Statement, beijing_days, statement, yuan
from paybutton.ledger.statement_csv import to_csv


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        clikit.fail(f"{option} {text!r}: a date is YYYY-MM-DD (a calendar day in Beijing time)")


def _human(r: dict[str, Any]) -> str:
    f = r["figures"]

    def money(fen: int) -> str:
        return f"{yuan(fen):>14} yuan ({fen} fen)"

    rows = [f"statement of {r['app_id']}, {r['from']} .. {r['to']} (Beijing time)",
            f"  opening balance  held {money(f['opening_held'])}, settled {money(f['opening_settled'])}",
            f"  paid in          {money(f['paid_in'])}",
            f"  refunded         {money(f['refunded'])}",
            f"  settled          {money(f['settled'])}",
            f"  fees             {money(f['fees'])}",
            f"  closing balance  held {money(f['closing_held'])}, settled {money(f['closing_settled'])}",
            f"  {r['lines']} ledger lines" + (f", written to {r['csv']}" if r["csv"] else "")]
    return "\n".join(rows)


def statement_cmd(
    app_id: str = typer.Option(..., "--app"),
    first: str = typer.Option(..., "--from", help="first day, YYYY-MM-DD (Beijing time)"),
    last: str = typer.Option(..., "--to", help="last day, YYYY-MM-DD (Beijing time), included"),
    csv_path: Path | None = typer.Option(None, "--csv", help="also write every ledger line to this CSV file"),
    lang: str = typer.Option("zh-CN", "--lang", help="the CSV's headings: zh-CN or en"),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """Print an app's statement from the ledger: opening balance, paid in, refunded, settled, fees, closing."""
    day1, day2 = _date(first, "--from"), _date(last, "--to")
    if day2 < day1:
        clikit.fail(f"--to {last} is before --from {first}")
    from_ms, to_ms = beijing_days(day1, day2)

    async def go(db: Database) -> Statement:
        async with db.engine.connect() as conn:
            return await statement(conn, app_id, from_ms, to_ms)

    st = clikit.run(database, go, app_id=app_id)
    if csv_path is not None:
        try:
            csv_path.write_bytes(to_csv(st, lang))
        except OSError as e:
            clikit.fail(f"--csv {csv_path}: {e.strerror or e}")
    report = {"app_id": app_id, "from": day1.isoformat(), "to": day2.isoformat(), "figures": st.figures(),
              "lines": len(st.lines), "csv": str(csv_path) if csv_path else None}
    clikit.out(report, as_json, _human)
