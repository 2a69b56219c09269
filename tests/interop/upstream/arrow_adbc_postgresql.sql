-- Adapted from arrow-adbc's PostgreSQL driver type cases and numeric round-trip fixtures
-- (Apache-2.0): the binary COPY edge cases its tests decode.
CREATE TABLE adbc_numeric (id int PRIMARY KEY, n numeric, n10 numeric(10,0), n16 numeric(16,10), n38 numeric(38,0));
INSERT INTO adbc_numeric VALUES
 (1, '1000000', 1000000, '0.0000000001', '10000000000000000000000000000000000000'),
 (2, '0.00001234', -1, '-123456.0000000001', '-99999999999999999999999999999999999999'),
 (3, '1.0000', 0, '0', '0'), (4, '-0.0', NULL, NULL, NULL), (5, 'NaN', NULL, NULL, NULL),
 (6, '123456789.123456789', 9999999999, '999999.9999999999', '1'), (7, '1e-300', NULL, NULL, NULL),
 (8, '-Infinity', NULL, NULL, NULL), (9, '100000000000000000000000000000000000000000000000', NULL, NULL, NULL);
CREATE TABLE adbc_types (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, b bool, tx text,
  vc varchar(3), by bytea, d date, t time, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
  i4a int4[], ta text[], o oid, nm name, ch "char", x xml, bt bit(3), vb varbit, mny money);
INSERT INTO adbc_types VALUES
 (1, -1, -2, -3, -1.5, -2.5, true, 'abc', 'abc', '\x00010203', '1970-01-01', '00:00:01', '1970-01-01 00:00:01',
  '1970-01-01 00:00:01+00', '1 mon 1 day 1 microsecond', '5f8e0b4e-5f3c-4cd1-8b3a-8f1d5b6f3f00', '1', '"a"',
  '{1,2,3}', '{a,b}', 4294967295, 'n', 'x', '<x/>', '101', '1', 1.5),
 (2, 32767, 2147483647, 9223372036854775807, 'Infinity', '-Infinity', false, '', '', '\x', '2262-04-11',
  '23:59:59.999999', '2262-04-11 23:47:16.854775', '1677-09-21 00:12:43.145224+00', '-1 mon -1 day -1 microsecond',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', 'null', '{}', '{}', 0, '', '', '', '000', '', -1.5),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL);
