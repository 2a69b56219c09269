-- Extracted from exyi/pg2parquet py-tests/*.py by tests/interop/upstream/extract.py

-- test_arrays.py
DROP TABLE IF EXISTS simple_arrays;
CREATE TABLE simple_arrays (id int, a text[], b int[], c bytea[], d numeric(10, 2)[]);
INSERT INTO simple_arrays VALUES (1, Array['a', 'b'], Array[1, 2], Array['\x01'::bytea, '\x02'::bytea], Array[1.1, 2.2]),
               (2, NULL, NULL, NULL, NULL),
               (3, Array[NULL, 'a', NULL, 'b'], Array[]::int[], Array[NULL::bytea], Array[1.1, 'NaN'::numeric, 1000010])
            ;
DROP TABLE IF EXISTS arrays_ranges;
CREATE TABLE arrays_ranges (id int, simple_range int4range, rint_array int4range[], rnum_array numrange[], rts_array tsrange[]);
INSERT INTO arrays_ranges VALUES 
                (1, '[1,2)', ARRAY['[1,2)'::int4range,'[2,3)'], ARRAY['[1.1,2.2)'::numrange,'[2.2,3.3)'], ARRAY['[2020-01-01 00:00:00,2020-01-02 00:00:00)'::tsrange,'[2020-01-02 00:00:00,2020-01-03 00:00:00)'::tsrange]),
                (2, NULL, NULL, NULL, NULL),
                (3, '(,2]', ARRAY[NULL::int4range, '(2,)', 'empty'], ARRAY['(1.1,)'::numrange,'(,)'], ARRAY[]::tsrange[])
            ;
DROP TABLE IF EXISTS arrays_multidim;
CREATE TABLE arrays_multidim (id int, a int[], b text[]);
INSERT INTO arrays_multidim VALUES 
                (1, ARRAY[[1,2],[3,4],[NULL,5]], ARRAY[[NULL,'b'],['c',NULL]]),
                (2, NULL, NULL),
                (3, ARRAY[]::int[], ARRAY[[[]]]::text[]),
                (4, ARRAY[[[[1]]]], '{{{a}}}'::text[]),
                (5, '[-2:0]={1,2,3}'::int[], '[-1:0][4:5]={{a,b},{c,d}}'::text[])
            ;

-- test_basic_types.py
CREATE TABLE simple1 (id int, name text);
INSERT INTO simple1 VALUES (1, 'hello'), (2, 'world'), (3, 'foo'), (4, 'bar');
DROP TABLE IF EXISTS simple2;
CREATE TABLE simple2 (id int, name text, b bool);
INSERT INTO simple2 VALUES (1, NULL, NULL), (2, 'b', true), (NULL, 'foo', NULL), (4, 'bar', true);
DROP TABLE IF EXISTS texttish_types;
CREATE TABLE texttish_types (id text, name name, citext citext, json json, jsonb jsonb, char char(10), varchar varchar(10));
INSERT INTO texttish_types VALUES ('id', 'name', 'CiTeXt', '{"json": true}', '{"jsonb": true}', 'char', 'varchar'), ('id2', NULL, NULL, NULL, NULL, NULL, NULL);
DROP TABLE IF EXISTS integer_types;
CREATE TABLE integer_types (id smallint, id2 int, id3 bigint, id4 serial, id5 bigserial, id6 oid);
INSERT INTO integer_types VALUES (1, 2, 3, 4, 5, 6), (NULL, NULL, NULL, 1, 1, NULL);
DROP TABLE IF EXISTS float_types;
CREATE TABLE float_types (id int, f32 real, f64 double precision);
INSERT INTO float_types VALUES (1, 1.1, 2.2), (2, 'NaN'::real, 'NaN'::double precision), (3, 'inf'::real, 'inf'::double precision), (4, '-inf'::real, '-inf'::double precision), (5, '-0'::real, '-0'::double precision);
DROP TABLE IF EXISTS numeric_types;
CREATE TABLE numeric_types (id int, normal numeric(10, 5), high_precision numeric(140, 100));
INSERT INTO numeric_types VALUES (1, 1000.0001, 1.00000000000000000000000000000000000000000001), (2, 'NaN', 'NaN');
DROP TABLE IF EXISTS numeric_types;
CREATE TABLE numeric_types (id int, normal numeric(10, 5), high_precision numeric(140, 100));
INSERT INTO numeric_types VALUES (1, 1000.0001, 1.00000000000000000000000000000000000000000001), (2, 'NaN', 'NaN');
DROP TABLE IF EXISTS numeric_types;
CREATE TABLE numeric_types (id int, normal numeric(10, 5), high_precision numeric(140, 100));
INSERT INTO numeric_types VALUES (1, 1000.0001, 1.00000000000000000000000000000000000000000001), (2, 'NaN', 'NaN');
DROP TABLE IF EXISTS numeric_types;
CREATE TABLE numeric_types (id int, normal numeric(10, 5), high_precision numeric(140, 100));
INSERT INTO numeric_types VALUES (1, 1000.0001, 1.00000000000000000000000000000000000000000001), (2, 'NaN', 'NaN');
DROP TABLE IF EXISTS numeric_types;
CREATE TABLE numeric_types (id int, normal numeric(10, 5), high_precision numeric(140, 100));
INSERT INTO numeric_types VALUES (1, 1000.0001, 1.00000000000000000000000000000000000000000001), (2, 'NaN', 'NaN');
DROP TABLE IF EXISTS numeric_types;
CREATE TABLE numeric_types (id int, normal numeric(10, 5), high_precision numeric(140, 100));
INSERT INTO numeric_types VALUES (1, 1000.0001, 1.00000000000000000000000000000000000000000001), (2, 'NaN', 'NaN');
DROP TABLE IF EXISTS bytes_types;
CREATE TABLE bytes_types (id int, bytes bytea, onebyte "char");
INSERT INTO bytes_types VALUES (1, 'foo'::bytea, 'x'), (2, '\x0001', 0::"char"), (3, NULL, NULL);
DROP TABLE IF EXISTS uuid_types;
CREATE TABLE uuid_types (id int, uuid uuid);
INSERT INTO uuid_types VALUES (1, '0000000a-000b-000c-000d-e00000000001'::uuid), (2, NULL);
DROP TABLE IF EXISTS date_types;
CREATE TABLE date_types (id int, date date, time time, timestamp timestamp, timestamp_tz timestamptz);
INSERT INTO date_types VALUES (1, '2000-01-01', '12:34:56', '2000-01-01 12:34:56', '2000-01-01 12:34:56'), (2, NULL, NULL, NULL, NULL);
DROP TABLE IF EXISTS interval_types;
CREATE TABLE interval_types (id int, interval interval);
INSERT INTO interval_types VALUES (1, '1 year 2 months 1 days 40 hours 5 mins 6 secs 1 microsecond'), (2, NULL);
DROP TABLE IF EXISTS bits_types;
CREATE TABLE bits_types (id int, bits bit(6), varbits varbit(6), bool bool);
INSERT INTO bits_types VALUES (1, B'101000', B'101', true), (2, NULL, NULL, NULL);

-- test_custom_types.py
CREATE TYPE weekday AS ENUM ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday');
CREATE TYPE weekday_range AS RANGE (subtype = weekday);
CREATE TYPE chain_id AS (pdbid char(4), model int, chain char(1));
DROP TABLE IF EXISTS custom_enums_text;
CREATE TABLE custom_enums_text (id int, a weekday, b weekday[]);
INSERT INTO custom_enums_text VALUES (1, 'monday', ARRAY['monday'::weekday, 'tuesday']),
               (2, NULL, NULL),
               (3, 'sunday', ARRAY['sunday'::weekday, NULL, 'monday'])
            ;
DROP TABLE IF EXISTS custom_enums_plaintext;
CREATE TABLE custom_enums_plaintext (id int, a weekday, b weekday[]);
INSERT INTO custom_enums_plaintext VALUES (1, 'monday', ARRAY['monday'::weekday, 'tuesday']),
               (2, NULL, NULL),
               (3, 'sunday', ARRAY['sunday'::weekday, NULL, 'monday'])
            ;
DROP TABLE IF EXISTS custom_enums_int;
CREATE TABLE custom_enums_int (id int, a weekday, b weekday[]);
INSERT INTO custom_enums_int VALUES (1, 'monday', ARRAY['monday'::weekday, 'tuesday']),
               (2, NULL, NULL),
               (3, 'sunday', ARRAY['sunday'::weekday, NULL, 'monday'])
            ;
DROP TABLE IF EXISTS custom_enum_ranges;
CREATE TABLE custom_enum_ranges (id int, a weekday, b weekday_range, c weekday_range[]);
INSERT INTO custom_enum_ranges VALUES 
                (1, 'monday', '[monday,tuesday]', ARRAY['[monday,tuesday)'::weekday_range, '[tuesday,thursday)']),
                (2, NULL, NULL, NULL),
                (3, 'tuesday', '[tuesday,tuesday]', ARRAY[NULL::weekday_range]),
                (4, 'wednesday', '(,)', NULL),
                (5, 'thursday', 'empty', NULL)
            ;
DROP TABLE IF EXISTS custom_composite_type_simple;
CREATE TABLE custom_composite_type_simple (id int, a chain_id, b chain_id[]);
INSERT INTO custom_composite_type_simple VALUES (1, ROW('1ehz', 1, 'A'), '{}'),
               (2, NULL, NULL),
               (3, '(,,)', ARRAY[NULL::chain_id, '(1ehz,1,A)', '(,,A)'])
            ;
