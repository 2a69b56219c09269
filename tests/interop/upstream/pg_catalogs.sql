-- PostgreSQL's own system catalogs copied into tables (CREATE TABLE AS SELECT * FROM
-- pg_catalog.<name>): real schemas with oid, name, "char", aclitem[], oidvector,
-- int2vector, pg_node_tree, regproc, xid, pg_lsn... Each catalog the test role may read is
-- copied (columns of a pseudo-type, anyarray in pg_statistic / pg_stats, are left out: no
-- table can hold them), as cat_<name>.
DO $$
DECLARE
  r record;
  cols text;
BEGIN
  FOR r IN
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind IN ('r', 'v')
      AND has_table_privilege(c.oid, 'SELECT')
    ORDER BY c.relkind, c.relname
  LOOP
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = ('pg_catalog.' || quote_ident(r.relname))::regclass AND a.attnum > 0
        AND NOT a.attisdropped AND t.typtype <> 'p';
    IF cols IS NOT NULL AND (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'cat\_%') < 57 THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I AS SELECT %s FROM pg_catalog.%I', 'cat_' || r.relname, cols, r.relname);
      EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'skipped %: %', r.relname, SQLERRM;
      END;
    END IF;
  END LOOP;
END
$$;
