-- The interop type zoo: every type family ADU exports, with the edge values other
-- projects' test suites use. Each table has an "id" column (except nocols); tests compare
-- every value with PostgreSQL's own text (or a number PostgreSQL computes from the value).
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE zoo (
  id int PRIMARY KEY,
  b boolean, i2 smallint, i4 integer, i8 bigint, o oid,
  f4 real, f8 double precision,
  n numeric(12,2), n38 numeric(38,10), n76 numeric(76,8), nu numeric,
  m money,
  tx text, vc varchar(20), ch char(4), nm name, j json, jb jsonb, e mood,
  by bytea, u uuid,
  d date, ts timestamp, tstz timestamptz, t time, tz timetz, iv interval,
  ip inet, cd cidr, mac macaddr, x xml, bt bit(4), vb varbit, tv tsvector,
  r int4range, h hstore, pt point, a int[], a2 text[][]
);
INSERT INTO zoo VALUES
 (1, true, 32767, 2147483647, 9223372036854775807, 4294967295,
  'NaN', 'Infinity',
  9999999999.99, 9999999999999999999999999999.9999999999,
  '-123456789012345678901234567890123456789012345678901234567890123456.12345678', 'NaN',
  '92233720368547758.07',
  E'tab\tnl\nquote''s \\ €', 'varchar', 'ab', 'name', '{"b": 1, "a": [1, 2.50]}', '{"z": null, "a": 1}', 'happy',
  '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  'infinity', 'infinity', 'infinity', '24:00:00', '24:00:00-15:59', '-178956970 years -8 mons -2147483648 days',
  '192.168.1.1', '10.0.0.0/8', '08:00:2b:01:02:03', '<a>x &amp; y</a>', '1010', '1', 'a:1 b:2',
  '[1,5)', 'k=>v, "x y"=>NULL', '(1.5,-2)', '{1,NULL,3}', '{{a,b},{"c d",NULL}}'),
 (2, false, -32768, -2147483648, -9223372036854775808, 0,
  '-0', '-Infinity',
  -9999999999.99, -0.0000000001,
  0, '-0.000000000000000000001',
  '-92233720368547758.08',
  '', '', '', '', 'null', '"s"', 'sad',
  '', '00000000-0000-0000-0000-000000000000',
  '-infinity', '-infinity', '-infinity', '00:00:00', '00:00:00+15:59', '178956970 years 7 mons 2147483647 days 2562047788:00:54.775807',
  '2001:db8::1', '2001:db8::/32', '00:00:00:00:00:00', '<?xml version="1.0"?><r/>', '0000', '', '',
  'empty', '', '(0,0)', '{}', '{}'),
 (3, NULL, 0, 0, 0, 1,
  '3.4028235e38', '-0',
  0.01, 1,
  1, '1e-16383',
  0,
  'ünïcødé 名前', 'x', 'x', 'x', '[]', '[]', 'ok',
  '\x', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '5874897-12-31', '294246-12-31 23:59:59.999999', '4713-01-01 00:00:00+00 BC', '23:59:59.999999', '12:00:00+00:19:32', '-0.000001 seconds',
  '192.168.1.5/24', '192.168.1.0/24', 'ff:ff:ff:ff:ff:ff', '', '1111', '101010', 'x',
  '(,3]', 'a=>b', '(-1e300,1e-300)', '{-2147483648,2147483647}', '{{NULL,NULL}}'),
 (4, NULL, NULL, NULL, NULL, NULL, 1.4e-45, 4.9e-324, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, '4713-01-01 BC', '4713-01-01 00:00:00 BC', '1970-01-01 00:00:00+00', NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, NULL, NULL, NULL, NULL, NULL, '1.1', 0.1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, '2000-02-29', '2000-02-29 12:34:56.789012', '1999-12-31 23:59:59.999999+00', '12:34:56.789012',
  NULL, '1 day -00:00:01', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- names that differ only in case (Spark reads names case-insensitively; DuckDB renames one)
CREATE TABLE collide (id int PRIMARY KEY, "MyColumn" int, mycolumn text, "MYCOLUMN" boolean);
INSERT INTO collide VALUES (1, 1, 'a', true), (2, NULL, 'b', false);

-- values no Parquet type holds: the column falls back to exact text
CREATE TABLE far (id int PRIMARY KEY, n numeric(10,3), ts timestamp, tstz timestamptz);
INSERT INTO far VALUES (1, 'NaN', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00'),
  (2, 1.5, '2020-01-01', 'infinity');

-- a table without columns, holding rows
CREATE TABLE nocols ();
INSERT INTO nocols DEFAULT VALUES;
INSERT INTO nocols DEFAULT VALUES;
INSERT INTO nocols DEFAULT VALUES;

-- one exact-profile type per table: which reader opens which logical type (the README's matrix)
CREATE TABLE only_uuid (id int PRIMARY KEY, u uuid);
INSERT INTO only_uuid VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (2, NULL);
CREATE TABLE only_time (id int PRIMARY KEY, t time);
INSERT INTO only_time VALUES (1, '24:00:00'), (2, '12:34:56.789012'), (3, NULL);
CREATE TABLE only_n76 (id int PRIMARY KEY, n numeric(76,8));
INSERT INTO only_n76 VALUES (1, '-123456789012345678901234567890123456789012345678901234567890123456.12345678'), (2, 0.5);
CREATE TABLE only_dates (id int PRIMARY KEY, d date, ts timestamp);
INSERT INTO only_dates VALUES (1, '5874897-12-31', '294246-12-31 23:59:59.999999'), (2, '4713-01-01 BC', '4713-01-01 00:00:00 BC'),
  (3, 'infinity', '-infinity');
CREATE TABLE only_nan (id int PRIMARY KEY, f double precision);
INSERT INTO only_nan VALUES (1, 'NaN'), (2, NULL), (3, '-0');
