-- Adapted from connector-x scripts/postgres.sql (MIT): its test tables.
CREATE TABLE test_table (test_int integer NOT NULL, test_nullint integer, test_str text, test_float double precision,
  test_bool boolean);
INSERT INTO test_table VALUES (1, 3, 'str1', NULL, true), (2, NULL, 'str2', 2.2, false), (0, 5, 'a', 3.1, NULL),
  (3, 7, 'b', 3, false), (4, 9, 'c', 7.8, NULL), (1314, 2, NULL, -10, true);
CREATE TABLE test_str (id int NOT NULL, test_language text, test_hello text);
INSERT INTO test_str VALUES (0, 'English', 'Hello'), (1, '中文', '你好'), (2, '日本語', 'こんにちは'),
  (3, 'русский', 'Здра́вствуйте'), (4, 'Emoji', '😁😂😜'), (5, 'Latin1', '¥§¤®ð'), (6, 'Extra', 'y̆'),
  (7, 'Mixed', 'Ha好ち😁ðy̆'), (8, '', NULL);
CREATE TYPE happiness AS ENUM ('happy', 'very happy', 'ecstatic');
CREATE TABLE test_types (test_int16 smallint, test_char char, test_uuid uuid NOT NULL, test_time time,
  test_interval interval, test_json json, test_jsonb jsonb, test_bytea bytea, test_enum happiness,
  test_f4array real[], test_f8array double precision[], test_narray numeric(5,2)[], test_boolarray boolean[],
  test_i2array smallint[], test_i4array integer[], test_i8array bigint[], test_citext text, test_ltree text,
  test_name name);
INSERT INTO test_types VALUES
 (0, 'a', '86b494cc-96b2-11eb-9298-3e22fbb9fe9d', '08:12:40', '1 year 2 months 3 days', '{"customer": "John Doe",
  "items": {"product": "Beer","qty": 6}}', '{"product": "Beer","qty": 6}', NULL, 'happy', '{-1.1, 0.00}',
  '{-1.1, 0.00}', '{0.01, 521.23}', '{true, false}', '{-1, 0, 1}', '{-1, 0, 1123}', '{-9223372036854775808, 1}',
  'str_citext', 'A.B.C.D', '0'),
 (1, 'b', '86b49b84-96b2-11eb-9298-3e22fbb9fe9d', '10:03:00', '2 weeks ago', '{"customer": "Lily Bush", "items":
  {"product": "Diaper","qty": 24}}', '{"product": "Diaper","qty": 24}', 'Здра́вствуйте', 'very happy', '{}', '{}',
  '{0.12, 333.33, 22.22}', '{}', '{}', '{}', '{}', '', 'A.B.E', '21'),
 (2, 'c', '86b49c42-96b2-11eb-9298-3e22fbb9fe9d', '23:00:10', '3 months 2 days ago', '{"customer": "Josh William",
  "items": {"product": "Toy Car","qty": 1}}', '{"product": "Toy Car","qty": 1}', '', 'ecstatic', '{1, -2, -12345.1}',
  '{2.12345678901, -12345678901.1}', '{}', '{true}', '{-32768, 32767}', '{-2147483648, 2147483647}',
  '{9223372036854775807}', 's', 'A.F.G', '999'),
 (NULL, NULL, '86b49cce-96b2-11eb-9298-3e22fbb9fe9d', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE test_infinite_values (dt date, ts timestamp, tstz timestamptz);
INSERT INTO test_infinite_values VALUES ('infinity', 'infinity', 'infinity'), ('-infinity', '-infinity', '-infinity'),
  ('2022-05-09', '2022-05-09 15:08:21', '2022-05-09 15:08:21+00'), (NULL, NULL, NULL);
