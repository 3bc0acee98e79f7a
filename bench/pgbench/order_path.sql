-- The SQL paybutton's order path issues on PostgreSQL for one order of a library good, quantity 1: the two
-- statements of src/paybutton/order/fastpath.py (PG_TAKE and PG_ACCEPT), each its own transaction, as the
-- server runs them (no transaction is held open while the merchant answers pre_create_order).
-- Variables: -D app=<app_id> -D goods=<goods_id> -D now=<epoch ms>. Run with -M prepared.
\set oid random(1, 9223372036854775806)
\set q 1

-- Step 1: take stock (guarded), insert the order and its item order, in one statement.
WITH s AS (
  UPDATE goods SET stock = stock - :q, sold = sold + :q, updated_at = :now
   WHERE app_id = :app AND goods_id = :goods AND stock >= :q AND on_shelf
     AND (sale_start IS NULL OR sale_start <= :now) AND (sale_end IS NULL OR sale_end > :now)
     AND min_limits <= :q AND max_limits >= :q AND (NOT phone_required OR false)
  RETURNING name, photo_url, price, labels, date_rule, biz_line
), o AS (
  INSERT INTO orders (order_id, app_id, out_order_no, open_id, goods_id, goods_type, quantity, unit_price,
                      total_amount, discount_amount, status, pre_order_status, phone_num, contact_name, cp_extra,
                      goods_snapshot, delivery_type, biz_line, legacy, pay_expire_at, auto_refund_pending,
                      created_at, updated_at)
  SELECT 'pg' || :oid, :app, NULL, 'pgbench-buyer-' || :client_id, :goods, 1, :q, s.price, s.price * :q, 0,
         'INIT', 'PENDING', NULL, NULL, NULL,
         json_build_object('name', s.name, 'photo_url', s.photo_url, 'labels', s.labels::json,
                           'date_rule', s.date_rule)::text,
         1, s.biz_line, false, :now::bigint + 300000, false, :now, :now
    FROM s
  RETURNING order_id, unit_price
), i AS (
  INSERT INTO item_orders (item_order_id, order_id, app_id, seq, goods_id, price, status, refunded_amount,
                           created_at, updated_at)
  SELECT t.id, o.order_id, :app, (t.n - 1)::int, :goods, o.unit_price, 1, 0, :now, :now
    FROM o, unnest(ARRAY['pi' || :oid]) WITH ORDINALITY AS t(id, n)
)
SELECT name, photo_url, price, labels, date_rule, biz_line FROM s;

-- (here the server POSTs the signed pre_create_order to the merchant)

-- Step 2: the merchant accepted: record out_order_no (guarded) and the callback attempt, in one statement.
WITH u AS (
  UPDATE orders SET out_order_no = 'Bpg' || :oid, pre_order_status = 'OK', pay_expire_at = :now::bigint + 300000,
                    order_entry_schema = NULL, updated_at = :now
   WHERE order_id = 'pg' || :oid AND status = 'INIT' AND pre_order_status = 'PENDING'
  RETURNING order_id
), a AS (
  INSERT INTO callback_attempts (app_id, type, order_id, attempt, url, logid, started_at, duration_ms,
                                 http_status, ok, answer_head, error)
  SELECT :app, 'pre_create_order', u.order_id, 1, 'http://127.0.0.1:9/pre_create_order',
         '20260101000000ABCDEF012345', :now, 1, 200, true,
         '{"err_no":0,"err_tips":"success","data":{"out_order_no":"Bpg0000000000000000000"}}', NULL
    FROM u
)
SELECT count(*) FROM u;
