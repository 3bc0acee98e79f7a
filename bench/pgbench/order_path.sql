-- The SQL paybutton's order path issues on PostgreSQL for one order of a library good, quantity 1
-- (src/paybutton/order/service.py place_order + _ask_merchant, statements from order/store.py), as the same
-- two transactions: no transaction is held open while the merchant answers pre_create_order.
-- Variables: -D app=<app_id> -D goods=<goods_id> -D now=<epoch ms>. Run with -M prepared.
\set oid random(1, 9223372036854775806)
\set q 1

-- Transaction 1: take stock (guarded), insert the order and its item order.
BEGIN;
UPDATE goods SET stock=(goods.stock - :q), sold=(goods.sold + :q), updated_at=:now
 WHERE goods.app_id = :app AND goods.goods_id = :goods AND goods.stock >= :q AND goods.on_shelf IS true
   AND (goods.sale_start IS NULL OR goods.sale_start <= :now) AND (goods.sale_end IS NULL OR goods.sale_end > :now)
 RETURNING goods.name, goods.photo_url, goods.price, goods.labels, goods.min_limits, goods.max_limits,
           goods.date_rule, goods.phone_required, goods.biz_line;
INSERT INTO orders (order_id, app_id, out_order_no, open_id, goods_id, goods_type, quantity, unit_price,
  total_amount, discount_amount, status, pre_order_status, phone_num, contact_name, cp_extra, goods_snapshot,
  price_calculation_detail, order_entry_schema, delivery_type, biz_line, legacy, pay_expire_at, pay_channel,
  channel_pay_id, payment_id, paid_at, auto_refund_pending, message, created_at, updated_at)
VALUES ('pg' || :oid, :app, NULL, 'pgbench-buyer-' || :client_id, :goods, 1, :q, 990, 990, 0, 'INIT', 'PENDING',
  NULL, NULL, NULL,
  '{"name":"Hot item","photo_url":"https://example.com/bench.png","labels":[],"date_rule":"周一至周日可用"}',
  NULL, NULL, 1, 1, false, :now::bigint + 300000, NULL, NULL, NULL, NULL, false, NULL, :now, :now);
INSERT INTO item_orders (item_order_id, order_id, app_id, seq, goods_id, price, status, refunded_amount,
  created_at, updated_at)
VALUES ('pi' || :oid, 'pg' || :oid, :app, 0, :goods, 990, 1, 0, :now, :now);
COMMIT;

-- (here the server POSTs the signed pre_create_order to the merchant)

-- Transaction 2: the merchant accepted: record out_order_no (guarded) and the callback attempt.
BEGIN;
UPDATE orders SET out_order_no='Bpg' || :oid, pre_order_status='OK', order_entry_schema=NULL,
  pay_expire_at=:now::bigint + 300000, updated_at=:now
 WHERE orders.order_id = 'pg' || :oid AND orders.status = 'INIT' AND orders.pre_order_status = 'PENDING';
INSERT INTO callback_attempts (outbox_id, app_id, type, order_id, attempt, url, logid, started_at, duration_ms,
  http_status, ok, answer_head, error)
VALUES (NULL, :app, 'pre_create_order', 'pg' || :oid, 1, 'http://127.0.0.1:9/pre_create_order',
  '20260101000000ABCDEF012345', :now, 1, 200, true,
  '{"err_no":0,"err_tips":"success","data":{"out_order_no":"Bpg0000000000000000000"}}', NULL);
COMMIT;
