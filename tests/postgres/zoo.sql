CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s "fine"');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN price AS numeric(10,3);
CREATE DOMAIN shortname AS varchar(5);
CREATE TYPE pair AS (a int, b text);
CREATE TABLE zoo (
  id int PRIMARY KEY,
  i2 smallint, i4 integer, i8 bigint,
  f4 real, f8 double precision,
  n_typed numeric(12,2), n_big numeric(50,10), n_free numeric, n_huge numeric(70,0),
  m money,
  c char(5), vc varchar(20), tx text, nm name, ch "char",
  ba bytea, u uuid,
  d date, t time, ttz timetz, ts timestamp, tstz timestamptz,
  iv interval,
  j json, jb jsonb, x xml,
  ip inet, cidr_ cidr, mac macaddr, mac8 macaddr8,
  bt bit(4), vb varbit,
  tsv tsvector, tsq tsquery,
  r int4range, dr daterange, tr tstzrange, nr numrange, mr int4multirange,
  hs hstore,
  pt point, ln line, ls lseg, bx box, pth path, pg polygon, ci circle,
  o oid, xid_ xid, lsn pg_lsn,
  e mood, dom posint, dom_price price, dom_name shortname,
  comp pair,
  a1 int[], a2 int[][], at text[], an numeric[], ae mood[],
  dropme int
);
ALTER TABLE zoo DROP COLUMN dropme;
INSERT INTO zoo VALUES
(1, -32768, -2147483648, -9223372036854775808, 'NaN', 'Infinity',
 -9999999999.99, 1234567890123456789012345678901234567890.0123456789, 'NaN', 10^69,
 -92233720368547758.08,
 'ab', 'héllo
wörld', E'tab\there\nnewline "quote" ''single'' \\back 😀', 'nämé', 'x',
 '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
 '4713-01-01 BC', '24:00:00', '23:59:59.999999+14:30', '4713-01-01 00:00:00 BC', '294246-12-31 23:59:59.999999+00',
 '-1 year -2 months +3 days -04:05:06.000007',
 '{"b": 1, "a": [1, 2.50]}', '{"b": 1, "a": [1, 2.50], "z": null}', '<a>x &amp; y</a>',
 '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
 B'1010', B'1',
 'a fat cat:1A', 'fat & rat',
 '[1,5)', '[2020-01-01,infinity)', '["2020-01-01 00:00:00+00",)', '(,1.5]', '{[1,3), [5,7)}',
 'a=>1, "b c"=>NULL',
 '(1.5,-2)', '{1,-1,0}', '[(0,0),(1,1)]', '((0,0),(1,1))', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(2,0))', '<(0,0),5>',
 4294967295, '42', '16/B374D848',
 'it''s "fine"', 7, 12.345, 'abc',
 ROW(1, 'x,y'),
 '{1,NULL,3}', '{{1,2},{3,4}}', '{"a b","c,d",NULL,"NULL"}', '{1.5,NaN}', '{sad,happy}'),
(2, 32767, 2147483647, 9223372036854775807, '-Infinity', 'NaN',
 0, -0.0000000001, 'Infinity', -10^69,
 92233720368547758.07,
 'abcde', '', '', '', '',
 '\x', '00000000-0000-0000-0000-000000000000',
 '5874897-12-31', '00:00:00', '00:00:00-15:59', '2000-01-01 00:00:00', '1970-01-01 00:00:00+00',
 '178000000 years',
 'null', '"s"', '<?xml version="1.0"?><r/>',
 '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00',
 B'0000', B'',
 '', 'a',
 'empty', 'empty', 'empty', 'empty', '{}',
 '',
 '(0,0)', '{0,1,0}', '[(0,0),(0,0)]', '((0,0),(0,0))', '((0,0))', '((0,0))', '<(0,0),0>',
 0, '0', '0/0',
 'sad', 1, -0.001, '',
 ROW(NULL, NULL),
 '{}', '[0:1][1:2]={{1,2},{3,4}}', '{}', '{-Infinity}', '{}');
INSERT INTO zoo (id) VALUES (3);
CREATE TABLE zoo_inf (id int, d date, ts timestamp, tstz timestamptz);
INSERT INTO zoo_inf VALUES (1, 'infinity', 'infinity', 'infinity'), (2, '-infinity', '-infinity', '-infinity'),
  (3, '2020-02-29', '294276-12-31 23:59:59.999999', '2020-02-29 12:00:00+00');
