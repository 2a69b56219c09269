-- Adapted from duckdb-postgres test/all_pg_types.sql (MIT): one column per built-in type
-- family, a row of typical values, a row of extremes and a row of NULLs; arrays of each.
CREATE TYPE color_enum AS ENUM ('red', 'green', 'blue');
CREATE TABLE all_pg_types (
  bool_col boolean, smallint_col smallint, integer_col integer, bigint_col bigint,
  float_col real, double_col double precision, numeric_col numeric(18,3), numeric_big numeric(36,6),
  numeric_unbounded numeric, varchar_col varchar(10), char_col char(5), text_col text,
  bytea_col bytea, date_col date, time_col time, timetz_col timetz, timestamp_col timestamp,
  timestamptz_col timestamptz, interval_col interval, uuid_col uuid, json_col json, jsonb_col jsonb,
  enum_col color_enum, oid_col oid, money_col money,
  bool_array boolean[], smallint_array smallint[], integer_array integer[], bigint_array bigint[],
  float_array real[], double_array double precision[], numeric_array numeric(10,2)[], varchar_array varchar[],
  text_array text[], date_array date[], timestamp_array timestamp[], uuid_array uuid[], interval_array interval[],
  json_array json[], enum_array color_enum[]
);
INSERT INTO all_pg_types VALUES
 (true, 42, 42, 42, 42.5, 42.25, 1234.567, 123456789012345678901234567890.123456, 1e100, 'varchar', 'char',
  'text value', '\xdeadbeef', '2020-01-01', '12:34:56', '12:34:56+02', '2020-01-01 12:34:56',
  '2020-01-01 12:34:56+02', '1 year 2 months 3 days 04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": 42}', '{"b": [1, 2]}', 'green', 12345, 42.42,
  '{true,false,NULL}', '{1,NULL,-32768}', '{1,2,3}', '{9223372036854775807}', '{1.5,NaN}', '{-0,Infinity}',
  '{1.25,NULL}', '{"a b",NULL,"\""}', '{"","NULL",null}', '{2020-01-01,infinity}', '{"2020-01-01 00:00:00"}',
  '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{"1 day","-1 mon"}', ARRAY['{"x":1}'::json], '{red,blue}'),
 (false, -32768, -2147483648, -9223372036854775808, '-Infinity', 'NaN', -999999999999999.999,
  -999999999999999999999999999999.999999, '-0.000000000000000000000000000000000001', '', '', '', '', '0001-01-01 BC',
  '00:00:00', '00:00:00-15:59', '0001-01-01 00:00:00 BC', '1900-01-01 00:00:00+00', '-178956970 years',
  '00000000-0000-0000-0000-000000000000', '[]', '{}', 'red', 0, '-92233720368547758.08',
  '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
 (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL);

-- duckdb-postgres test/other.sql: geometric, network, bit strings, text search, ranges
CREATE TABLE other_types (
  pt point, ln line, ls lseg, bx box, pth path, pg polygon, ci circle,
  ip inet, cd cidr, mac macaddr, mac8 macaddr8, bt bit(8), vb varbit(16), tsv tsvector, tsq tsquery,
  i4r int4range, i8r int8range, nr numrange, tsr tsrange, tstzr tstzrange, dr daterange, xm xml, pl pg_lsn
);
INSERT INTO other_types VALUES
 ('(1,2)', '{1,2,3}', '[(0,0),(1,1)]', '(1,1),(0,0)', '((0,0),(1,1),(2,0))', '((0,0),(1,1),(1,0))', '<(0,0),5>',
  '10.1.2.3', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', '10101010', '101',
  'a fat cat sat on a mat', 'fat & rat', '[1,10)', '(,5]', '[1.5,2.5]', '["2020-01-01","2021-01-01")',
  '["2020-01-01 00:00:00+00",)', 'empty', '<doc>t</doc>', '16/B374D848'),
 ('(-1e300,1e-300)', '{0,1,0}', '[(1.5,1.5),(2,2)]', '(0,0),(0,0)', '[(0,0),(1,1)]', '((0,0))', '<(1,1),0>',
  '::ffff:1.2.3.4/128', '::/0', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', '00000000', '', '', '!a',
  'empty', '[-9223372036854775808,9223372036854775807)', '(,)', '(,)', 'empty', '[infinity,infinity]', '', '0/0');

-- duckdb-postgres test/decimals.sql: decimals at every width, scale and sign
CREATE TABLE decimals (
  d1 numeric(1,0), d4 numeric(4,1), d9 numeric(9,4), d18 numeric(18,6), d38 numeric(38,10), d38s numeric(38,38),
  d50 numeric(50,25), d76 numeric(76,38), dn numeric(5,5)
);
INSERT INTO decimals VALUES
 (9, 999.9, 99999.9999, 999999999999.999999, 9999999999999999999999999999.9999999999,
  0.99999999999999999999999999999999999999, 9999999999999999999999999.9999999999999999999999999,
  99999999999999999999999999999999999999.99999999999999999999999999999999999999, 0.12345),
 (-9, -999.9, -99999.9999, -999999999999.999999, -9999999999999999999999999999.9999999999,
  -0.00000000000000000000000000000000000001, -0.0000000000000000000000001, 0, -0.00001),
 (0, 0, 0, 0, 0, 0, 0, 0, 0),
 ('NaN', 1.5, 'NaN', 2.5, 'NaN', 0.5, 'NaN', 'NaN', 0.5);
