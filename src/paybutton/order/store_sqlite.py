"""The order SQL that only SQLite runs: the SQLite writer's statements (order/writer_sqlite.py runs them on its
sqlite3 connection, `:name` parameters), next to the named statements of order/store.py that it renders too."""

from __future__ import annotations

from paybutton.order.batch import PLAN_COLUMNS
from paybutton.order.rows import ITEM_COLUMNS, ORDER_COLUMNS
from paybutton.order.store import ATTEMPT_COLUMNS

INSERT_ORDER = f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) VALUES ({', '.join(':' + c for c in ORDER_COLUMNS)})"
INSERT_ITEM = f"INSERT INTO item_orders ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join(':' + c for c in ITEM_COLUMNS)})"
INSERT_ATTEMPT = (f"INSERT INTO callback_attempts ({', '.join(ATTEMPT_COLUMNS)}) "
                  f"VALUES ({', '.join(':a_' + c for c in ATTEMPT_COLUMNS)})")

READ_GOODS = f"SELECT {', '.join(PLAN_COLUMNS)} FROM goods WHERE app_id = :app_id AND goods_id = :goods_id"
TAKE_SUM = """UPDATE goods SET stock = stock - :total, sold = sold + :total, updated_at = :now
 WHERE app_id = :app_id AND goods_id = :goods_id"""
