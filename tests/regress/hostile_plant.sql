-- The look-alikes of tests/regress/hostile_path.sh, made in schema evil by its owner (the current role)
-- with a clean search path. Every one calls evil.planted('<what>'), which raises
-- "WARNING: planted <what> ran as <current_user>".

-- Types a look-alike may take instead of pg_catalog's: a call that passes one of these where pg_catalog
-- needs an implicit cast picks the look-alike, even when pg_catalog is searched first.
CREATE TEMP TABLE near (t regtype, alt regtype);
INSERT INTO near VALUES
  ('text', 'varchar'), ('text', 'name'), ('integer', 'smallint'), ('integer', 'bigint'), ('bigint', 'integer'),
  ('numeric', 'integer'), ('numeric', 'bigint'), ('numeric', 'double precision'), ('double precision', 'numeric'),
  ('double precision', 'integer'), ('timestamp with time zone', 'timestamp without time zone'),
  ('timestamp with time zone', 'date'), ('timestamp without time zone', 'timestamp with time zone');

-- Functions: a copy of each pg_catalog function with plain types, and one variant per argument whose
-- type has a near type (where pg_catalog has no function of that signature).
CREATE FUNCTION pg_temp.plant_function(fn name, sig regtype[], args regtype[], ret regtype) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $plant$
BEGIN
    IF EXISTS (SELECT FROM pg_proc q WHERE q.proname = fn AND q.pronamespace = 'evil'::regnamespace AND ARRAY(SELECT unnest(q.proargtypes::oid[])) = sig::oid[]) THEN
        RETURN 0;
    END IF;
    EXECUTE format(
        'CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS %L',
        fn,
        coalesce((SELECT string_agg(format_type(t, NULL), ', ' ORDER BY k) FROM unnest(sig) WITH ORDINALITY AS u(t, k)), ''),
        format_type(ret, NULL),
        format('BEGIN PERFORM evil.planted(%L); RETURN %s; END',
               fn || '(' || array_to_string(sig, ', ') || ')',
               CASE WHEN fn = 'now' THEN $$'2000-01-01 00:00+00'::timestamptz$$
                    ELSE format('pg_catalog.%I(%s)', fn,
                         coalesce((SELECT string_agg(format('$%s::%s', k, format_type(t, NULL)), ', ' ORDER BY k)
                                   FROM unnest(args) WITH ORDINALITY AS u(t, k)), '')) END));
    RETURN 1;
EXCEPTION WHEN OTHERS THEN
    RETURN 0;  -- a name that cannot be redefined this way: that look-alike is not made
END
$plant$;

DO $plant$
DECLARE
    r record;
    sig regtype[];
    i int;
    alt regtype;
    n int := 0;
BEGIN
    FOR r IN
        SELECT p.proname, ARRAY(SELECT unnest(p.proargtypes::oid[]))::regtype[] AS args, p.prorettype::regtype AS ret
        FROM pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f' AND NOT p.proretset
          AND p.provariadic = 0 AND p.pronargs <= 4
          AND NOT EXISTS (SELECT FROM unnest(p.proargtypes::oid[] || p.prorettype) AS t(o)
                          JOIN pg_type y ON y.oid = t.o WHERE y.typtype = 'p')
        ORDER BY p.oid
    LOOP
        n := n + pg_temp.plant_function(r.proname, r.args, r.args, r.ret);
        FOR i IN 1 .. coalesce(array_length(r.args, 1), 0) LOOP
            FOR alt IN SELECT near.alt FROM near WHERE near.t = r.args[i] LOOP
                sig := r.args;
                sig[i] := alt;
                CONTINUE WHEN EXISTS (SELECT FROM pg_proc q WHERE q.proname = r.proname AND q.pronamespace = 'pg_catalog'::regnamespace
                                      AND ARRAY(SELECT unnest(q.proargtypes::oid[])) = sig::oid[]);
                n := n + pg_temp.plant_function(r.proname, sig, r.args, r.ret);
            END LOOP;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'planted % functions', n;
END
$plant$;

-- Binary operators: a copy of each pg_catalog operator on plain types, and variants on near types.
-- The text = answers true whatever its operands (every row matches: wrong numbers, if it were used).
DO $plant$
DECLARE
    r record;
    l regtype;
    rt regtype;
    fname text;
    n int := 0;
BEGIN
    FOR r IN
        SELECT o.oid, o.oprname, o.oprleft::regtype AS l, o.oprright::regtype AS r, o.oprresult::regtype AS res
        FROM pg_operator o
        WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprkind = 'b'
          AND NOT EXISTS (SELECT FROM unnest(ARRAY[o.oprleft, o.oprright, o.oprresult]) AS t(x)
                          JOIN pg_type y ON y.oid = t.x WHERE y.typtype = 'p')
        ORDER BY o.oid
    LOOP
        FOR l, rt IN
            SELECT r.l, r.r
            UNION SELECT near.alt, r.r FROM near WHERE near.t = r.l
            UNION SELECT r.l, near.alt FROM near WHERE near.t = r.r
        LOOP
            CONTINUE WHEN (l, rt) <> (r.l, r.r) AND EXISTS (
                SELECT FROM pg_operator q WHERE q.oprname = r.oprname AND q.oprnamespace = 'pg_catalog'::regnamespace
                  AND q.oprleft = l AND q.oprright = rt);
            CONTINUE WHEN EXISTS (SELECT FROM pg_operator q WHERE q.oprname = r.oprname AND q.oprnamespace = 'evil'::regnamespace
                                  AND q.oprleft = l AND q.oprright = rt);
            fname := format('op_%s_%s_%s', r.oid, l::oid, rt::oid);
            BEGIN
                EXECUTE format(
                    'CREATE FUNCTION evil.%I(%s, %s) RETURNS %s LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS %L',
                    fname, format_type(l, NULL), format_type(rt, NULL), format_type(r.res, NULL),
                    format('BEGIN PERFORM evil.planted(%L); RETURN %s; END',
                           'operator ' || format_type(l, NULL) || ' ' || r.oprname || ' ' || format_type(rt, NULL),
                           CASE WHEN r.oprname = '=' AND r.l = 'text'::regtype AND r.r = 'text'::regtype THEN 'true'
                                ELSE format('$1::%s OPERATOR(pg_catalog.%s) $2::%s', format_type(r.l, NULL), r.oprname, format_type(r.r, NULL)) END));
                EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.%I)',
                               r.oprname, format_type(l, NULL), format_type(rt, NULL), fname);
                n := n + 1;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'planted % operators', n;
END
$plant$;

-- Aggregates that beat pg_catalog's under any search path (count("any"), percentile_cont(float8 ORDER BY
-- float8) need a cast or a pseudo-type), and copies of common ones. They give made-up results.
CREATE FUNCTION evil.agg_step(state numeric, v anyelement) RETURNS numeric LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM evil.planted('aggregate over ' || pg_typeof(v)); RETURN 424242; END $$;
CREATE FUNCTION evil.agg_step_count(state bigint, v anyelement) RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM evil.planted('count(' || pg_typeof(v) || ')'); RETURN 424242; END $$;
CREATE FUNCTION evil.agg_step_ts(state timestamptz, v timestamptz) RETURNS timestamptz LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM evil.planted('max/min(timestamptz)'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION evil.pc_final(state numeric, fraction double precision, v numeric) RETURNS double precision LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM evil.planted('percentile_cont(float8 ORDER BY numeric)'); RETURN 424242; END $$;
CREATE AGGREGATE evil.count(bigint) (SFUNC = evil.agg_step_count, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE evil.count(integer) (SFUNC = evil.agg_step_count, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE evil.count(text) (SFUNC = evil.agg_step_count, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE evil.count(numeric) (SFUNC = evil.agg_step_count, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE evil.sum(numeric) (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE evil.sum(bigint) (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE evil.sum(integer) (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE evil.avg(numeric) (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE evil.max(numeric) (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE evil.min(numeric) (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0');
CREATE AGGREGATE evil.max(timestamptz) (SFUNC = evil.agg_step_ts, STYPE = timestamptz);
CREATE AGGREGATE evil.min(timestamptz) (SFUNC = evil.agg_step_ts, STYPE = timestamptz);
CREATE AGGREGATE evil.percentile_cont(double precision ORDER BY numeric)
    (SFUNC = evil.agg_step, STYPE = numeric, INITCOND = '0', FINALFUNC = evil.pc_final, FINALFUNC_EXTRA);

-- Relations: a view with one made-up row for every relation of schemas analytics and pg_catalog,
-- tenant fx where it has a tenant_id, the extension's name where it has extname.
DO $plant$
DECLARE
    r record;
    cols text;
    n int := 0;
BEGIN
    FOR r IN
        SELECT c.oid, c.relname, c.relnamespace::regnamespace AS nsp
        FROM pg_class c
        WHERE c.relnamespace IN ('pg_catalog'::regnamespace, 'analytics'::regnamespace) AND c.relkind IN ('r', 'v', 'm', 'p')
          AND NOT EXISTS (SELECT FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
                          WHERE a.attrelid = c.oid AND a.attnum > 0 AND y.typtype = 'p')
        ORDER BY c.oid
    LOOP
        SELECT string_agg(format('%s::%s AS %I',
                   CASE WHEN a.attname = 'tenant_id' THEN quote_literal('fx')
                        WHEN a.attname = 'extname' THEN quote_literal('agile_analytics')
                        WHEN a.attname IN ('version', 'stamp', 'data_version') THEN '424242'
                        WHEN a.attname = 'is_active' THEN 'true'
                        ELSE 'NULL' END,
                   format_type(a.atttypid, a.atttypmod), a.attname), ', ' ORDER BY a.attnum)
        INTO cols
        FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped;
        BEGIN
            EXECUTE format('CREATE VIEW evil.%I AS SELECT %s WHERE evil.planted(%L)', r.relname, cols, 'relation ' || r.relname);
            n := n + 1;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
    END LOOP;
    RAISE NOTICE 'planted % relations', n;
END
$plant$;
