"""The sample database ``adu demo`` exports: a small shop and a sensor log.

Generated deterministically with DuckDB's own SQL (no download, no random seed drift),
with the kinds of values that break lesser exporters: decimals, time zones, unicode,
NULLs, NaN, lists, structs, an enum and a table name with a space.
"""

from __future__ import annotations

import os

from adu_core import duck

SCHEMA_SQL = """
CREATE SCHEMA shop;
CREATE SCHEMA telemetry;
CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped', 'returned');

CREATE TABLE shop.customers (
    id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    email VARCHAR,
    country VARCHAR(2) NOT NULL,
    age INTEGER,
    balance DECIMAL(12, 2) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    tags VARCHAR[]
);
INSERT INTO shop.customers
SELECT i,
       ['Ana', 'Björn', 'Chidi', 'Dước', 'Élodie', 'Fatima', '李', 'Zoë'][1 + i % 8] || ' #' || i,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 'user' || i || '@example.org' END,
       ['US', 'GB', 'DE', 'FR'][1 + i % 4],
       CASE WHEN i % 23 = 0 THEN NULL ELSE 18 + (i * 7) % 70 END,
       ((i * 7919) % 1000000) / 100.0 - 2500,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * 3607),
       CASE WHEN i % 3 = 0 THEN ['vip', 'newsletter'] WHEN i % 3 = 1 THEN [] ELSE NULL END
FROM range(1, {customers} + 1) t(i);

CREATE TABLE shop.products (
    sku VARCHAR PRIMARY KEY,
    title VARCHAR NOT NULL,
    price DECIMAL(10, 2) NOT NULL,
    dimensions STRUCT(w DOUBLE, h DOUBLE, d DOUBLE),
    launched DATE
);
INSERT INTO shop.products
SELECT 'SKU-' || lpad(i::VARCHAR, 5, '0'), 'Product ' || i || E' \u2014 "quoted"',
       (i * 137 % 100000) / 100.0 + 0.99,
       {{'w': i % 50 + 0.5, 'h': i % 30 + 0.25, 'd': i % 10 + 0.125}},
       DATE '2019-03-01' + i::INTEGER
FROM range(1, {products} + 1) t(i);

CREATE TABLE shop.orders (
    id BIGINT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    ordered_at TIMESTAMP NOT NULL,
    status shop.order_status NOT NULL,
    total DECIMAL(14, 2) NOT NULL,
    lines STRUCT(sku VARCHAR, qty INTEGER)[]
);
INSERT INTO shop.orders
SELECT i, 1 + (i * 31) % {customers}, TIMESTAMP '2024-02-01' + to_seconds(i * 97),
       (['new', 'paid', 'shipped', 'returned'][1 + i % 4])::shop.order_status,
       ((i * 104729) % 5000000) / 100.0,
       [{{'sku': 'SKU-' || lpad((1 + i % {products})::VARCHAR, 5, '0'), 'qty': 1 + i % 5}}]
FROM range(1, {orders} + 1) t(i);

CREATE TABLE telemetry."sensor readings" (
    sensor VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    value DOUBLE,
    ok BOOLEAN,
    raw BLOB
);
INSERT INTO telemetry."sensor readings"
SELECT 'sensor-' || (i % 12), TIMESTAMPTZ '2024-06-01 00:00:00+00' + to_milliseconds(i * 250),
       CASE WHEN i % 101 = 0 THEN 'NaN'::DOUBLE WHEN i % 211 = 0 THEN NULL ELSE sin(i / 100.0) * 40 END,
       i % 13 <> 0, ('\\x' || lpad(to_hex(i % 65536), 4, '0'))::BLOB
FROM range(0, {readings}) t(i);
"""


def make_demo_database(path: str, *, scale: int = 1) -> dict[str, int]:
    """Create the demo database at ``path`` (replacing it); return row counts by table."""
    counts = {"customers": 2000 * scale, "products": 500 * scale, "orders": 20000 * scale, "readings": 50000 * scale}
    for p in (path, path + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duck.connect(path)
    try:
        con.execute(SCHEMA_SQL.format(**counts))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {
        "shop.customers": counts["customers"],
        "shop.products": counts["products"],
        "shop.orders": counts["orders"],
        "telemetry.sensor readings": counts["readings"],
    }
