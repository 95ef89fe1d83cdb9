-- Every object of extension agile_analytics, described in full, one line per fact, sorted: what
-- tests/upgrade/upgrade.sh compares between a fresh install and an upgraded one (pg_dump omits
-- extension members, so it cannot). Functions with their whole definition (arguments, defaults,
-- volatility, SET clauses, body or C symbol), comments and grants; tables, views and sequences with
-- their columns, defaults, constraints, indexes, triggers, policies, RLS flags, options, comments and
-- grants; schemas; the extension's configuration tables; and the rows the extension itself ships
-- (access levels, the built-in metric catalog).
SET search_path = pg_catalog, pg_temp;
WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'agile_analytics'
), members AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.oid::regclass::text AS name, c.relkind FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
), facts AS (
    SELECT 'function ' || p.oid::regprocedure::text || ': ' ||
           CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END AS fact
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' comment: ' || coalesce(obj_description(p.oid, 'pg_proc'), '(none)')
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' acl: ' || coalesce(p.proacl::text, '(default)')
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'schema ' || n.nspname || ': acl ' || coalesce(n.nspacl::text, '(default)') || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '(none)')
    FROM pg_namespace n JOIN members m ON m.classid = 'pg_namespace'::regclass AND m.objid = n.oid
    UNION ALL
    SELECT 'relation ' || r.name || ': kind ' || c.relkind::text || ' rls ' || c.relrowsecurity || ' forced ' || c.relforcerowsecurity
           || ' options ' || coalesce(c.reloptions::text, '{}') || ' acl ' || coalesce(c.relacl::text, '(default)')
           || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '(none)')
    FROM rels r JOIN pg_class c ON c.oid = r.oid
    UNION ALL
    -- Columns by position among the live ones: a column dropped by an upgrade leaves a gap in attnum.
    SELECT 'relation ' || r.name || ' column '
           || lpad((row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum))::text, 3, '0') || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
           || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
           || coalesce(' comment ' || col_description(r.oid, a.attnum), '')
           || coalesce(' acl ' || a.attacl::text, '')
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'relation ' || r.name || ' constraint ' || co.conname || ': ' || pg_get_constraintdef(co.oid)
    FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid
    UNION ALL
    SELECT 'relation ' || r.name || ' index: ' || pg_get_indexdef(i.indexrelid)
    FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'relation ' || r.name || ' trigger: ' || pg_get_triggerdef(t.oid)
    FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'relation ' || r.name || ' policy ' || po.polname || ': ' || po.polcmd::text || ' permissive ' || po.polpermissive
           || ' roles ' || po.polroles::text || ' using ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-')
           || ' check ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-')
    FROM rels r JOIN pg_policy po ON po.polrelid = r.oid
    UNION ALL
    SELECT 'relation ' || r.name || ' definition: ' || pg_get_viewdef(r.oid)
    FROM rels r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'relation ' || r.name || ' sequence: ' || s.seqtypid::regtype::text || ' ' || s.seqstart || ' ' || s.seqincrement || ' ' || s.seqcycle
    FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0)
    FROM members m
    UNION ALL
    SELECT 'configuration table ' || c.oid::regclass::text || ' where ' || coalesce(e.extcondition[i], '')
    FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS u(reloid, i) JOIN pg_class c ON c.oid = u.reloid
    WHERE e.extname = 'agile_analytics'
    UNION ALL
    SELECT 'access ' || a.access || ' ' || a.object_type || ' ' || a.object_name || ' ' || a.privileges
    FROM analytics.access_privileges a
    UNION ALL
    SELECT 'shipped metric ' || (to_jsonb(b) - 'created_at' - 'updated_at')::text
    FROM analytics.metrics_builtin b
)
SELECT fact FROM facts ORDER BY fact;
