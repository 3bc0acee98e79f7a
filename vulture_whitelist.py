# Names vulture (the dead-code check of `make test` and `make lint`, configured in pyproject.toml) cannot see
# used. Each is read by something outside src/: a template, a library, a test or the bench. Add a name here
# only with its reason; anything else it reports is dead code, to be removed.
# ruff: noqa
_ = object()

# Jinja templates read these attributes (console/templates/pager.html, dashboard.html).
_.has_prev, _.has_next
_.orders_24h, _.paid_24h, _.gross_24h, _.refunded_24h, _.dead_cb, _.on_shelf_goods

# FastAPI calls the app's openapi() (api/schema.py overrides it).
_.openapi

# Set on third-party objects: the sqlite3 connection (db.py) and the payment SDKs' gateways (tests' fakes).
_.isolation_level, _._gateway, _._gate_way

# Fields of typed rows and dataclasses that are read by key or written as a row.
_.price_calculation_detail, _.refund_audit_seconds, _.pay_secrets

# The merchant library's public API (docs/merchant-library.md): merchants call these, src/ does not.
_.query_order, _.query_item_order_info, _.delivery_prepare, _.delivery_verify, _.verify_cancel
_.goods_create, _.goods_update, _.goods_list, _.goods_query, _.merchant_audit_callback, _.token_requests
_.query_settle

# Counters and hooks that tests and the bench read: the writers' batches, the sold-out memory, the listener.
_.take_batches, _.taken_in_batches, _.accept_batches, _.accepted_in_batches, _.replans
_.sold_out_from_memory, _.sold_out_from_database, _.goods_marked_sold_out, _.memory_sure, _.backend_pid, _.connections

# Pure rules that only their unit tests call: the Python spelling of a SQL rule, kept to test it.
_.item_after_success, _.STATES, _._check_photo
# The test clock (tests/conftest.py).
_.FakeClock

# i18n/messages.py: Babel writes these catalog header dates (fixed, so the .po changes only when a text does)
_.creation_date
_.revision_date

# kernel/answers.py: used by the OpenAPI answer models, which vulture does not read (pyproject's exclude)
_.data_example

# The ledger's reading API (paybutton/ledger/balances.py): the settle engine (issue 21) and the tests read
# balances per account, per order and per unit through it.
_.balance, _.order_money, _.unit_settled

# The console's charts (console/charts.py): console/templates/chart.html reads the bars' and the chart's geometry.
_.y, _.width, _.height, _.total_text, _.max_text, _.ticks
# logging.config.dictConfig builds these by name (telemetry/logs.log_config); prometheus-client calls collect().
_.RequestIdFilter, _.JsonFormatter, _.collect

# Request fields Douyin's documents define and paybutton accepts without using (booking/api.py,
# fulfillment/tools_api.py): kept so /openapi.json shows the documented body.
_.id_card_no, _.book_sku_info, _.markup_info, _.accept_type, _.account_id

# The Citus plan's calls (distribution.py): docs/scaling.md shows them and tests/unit/test_scaling_doc.py holds the
# page to them; no code runs them (an operator does, on the coordinator).
_.citus_calls
