"""What an operator sees of a running server: Prometheus metrics (metrics.py: the series; scrape.py: /metrics and
the gauges read from the database when it is scraped), request ids and JSON log lines (logs.py), and the ASGI
middleware that ties them to each request (http.py). Base layer: the domains count through metrics.py."""
