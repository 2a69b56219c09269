-- Adapted from pg2parquet's py-tests (MIT/Apache-2.0): the types it exports, with the
-- values its tests check (arrays of composites, ranges, money, times with offsets).
CREATE TYPE pg2p_pair AS (a int, b text);
CREATE TABLE pg2p_basic (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, txt text, b bool);
INSERT INTO pg2p_basic SELECT g, g::int2, g * 1000, g::int8 * 1000000000000, g / 3.0, g / 7.0, repeat('x', g), g % 2 = 0
  FROM generate_series(1, 50) g;
CREATE TABLE pg2p_dates (id int PRIMARY KEY, d date, t time, ttz timetz, ts timestamp, tstz timestamptz, iv interval);
INSERT INTO pg2p_dates VALUES
 (1, '2000-01-01', '00:00:00.000001', '23:59:59.999999+14', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00-12',
  '1 microsecond'),
 (2, '1969-12-31', '24:00:00', '00:00:00-14', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '-1 day +1 hour'),
 (3, '294276-12-31', '12:00:00', '12:00:00+05:30', '294276-12-31 23:59:59.999999', '2262-04-11 23:47:16.854775+00',
  '1000 years');
CREATE TABLE pg2p_composite (id int PRIMARY KEY, p pg2p_pair, ps pg2p_pair[], nested int[][], r int4range[]);
INSERT INTO pg2p_composite VALUES
 (1, ROW(1, 'one'), ARRAY[ROW(2, 'two'), ROW(NULL, NULL)]::pg2p_pair[], '{{1,2},{3,4}}', ARRAY['[1,2)'::int4range]),
 (2, ROW(NULL, 'quote"and,comma'), '{}', '{}', '{}'),
 (3, NULL, NULL, '[0:1]={7,8}', NULL);
CREATE TABLE pg2p_money (id int PRIMARY KEY, m money, n numeric, j jsonb, by bytea, u uuid, c "char", nm name);
INSERT INTO pg2p_money VALUES
 (1, '1.23', '3.141592653589793238462643383279502884197', '{"k": [1, {"x": null}]}', '\x0102', gen_random_uuid(),
  'a', 'name1'),
 (2, '-0.01', '-1e-100', 'true', '\x', '00000000-0000-0000-0000-000000000001', ' ', ''),
 (3, NULL, 'Infinity', NULL, NULL, NULL, NULL, NULL);
