-- The metrics catalog: the vocabulary of the product. It holds definitions, not tenant data, so it is
-- shared by all tenants: readers read it, admins change it (through analytics_metric_upsert etc.).
--   metrics_builtin  the shipped definitions (catalog/*.toml), loaded at CREATE EXTENSION
--   metrics_user     definitions created or edited by users; kept by pg_dump (extension config table)
--   metrics_catalog  the effective catalog: a user row overrides the shipped row of the same name
-- Keeping user rows apart is what lets a dump restore cleanly: CREATE EXTENSION reloads the shipped
-- rows and the dump brings back exactly the user's rows.

CREATE TABLE analytics.metrics_builtin (
    name                 text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    display_name         text NOT NULL,
    description          text NOT NULL,
    category             text NOT NULL,
    version              integer NOT NULL CHECK (version >= 1),
    entity               text NOT NULL CHECK (entity IN ('issue', 'sprint')),
    kind                 text NOT NULL DEFAULT 'measure' CHECK (kind IN ('measure', 'formula', 'snapshot')),
    base_relation        text NOT NULL,
    sql_expression       text NOT NULL,
    filter               text,
    time_field           text,
    parameters           jsonb NOT NULL DEFAULT '{}',
    default_aggregation  text NOT NULL,
    allowed_aggregations text[] NOT NULL,
    unit                 text NOT NULL CHECK (unit IN ('count', 'points', 'days', 'hours', 'ratio', 'score')),
    tags                 text[] NOT NULL DEFAULT '{}',
    synonyms             text[] NOT NULL DEFAULT '{}',
    dependencies         text[] NOT NULL DEFAULT '{}',
    weights              jsonb,
    is_active            boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.metrics_builtin IS 'Metric definitions shipped with the extension (catalog/*.toml). Do not edit: use analytics_metric_upsert(), which writes metrics_user.';

CREATE TABLE analytics.metrics_user (LIKE analytics.metrics_builtin INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE analytics.metrics_user ADD PRIMARY KEY (name), ADD COLUMN updated_by text NOT NULL DEFAULT current_user;
COMMENT ON TABLE analytics.metrics_user IS 'Metric definitions created or edited by users (they override shipped ones of the same name). Kept by pg_dump.';
SELECT pg_catalog.pg_extension_config_dump('analytics.metrics_user', '');

CREATE VIEW analytics.metrics_catalog AS
SELECT u.name, u.display_name, u.description, u.category, u.version, u.entity, u.kind, u.base_relation,
       u.sql_expression, u.filter, u.time_field, u.parameters, u.default_aggregation, u.allowed_aggregations,
       u.unit, u.tags, u.synonyms, u.dependencies, u.weights, u.is_active, 'user'::text AS source,
       u.created_at, u.updated_at
FROM analytics.metrics_user u
UNION ALL
SELECT b.name, b.display_name, b.description, b.category, b.version, b.entity, b.kind, b.base_relation,
       b.sql_expression, b.filter, b.time_field, b.parameters, b.default_aggregation, b.allowed_aggregations,
       b.unit, b.tags, b.synonyms, b.dependencies, b.weights, b.is_active, 'builtin'::text AS source,
       b.created_at, b.updated_at
FROM analytics.metrics_builtin b
WHERE NOT EXISTS (SELECT FROM analytics.metrics_user u WHERE u.name = b.name);
COMMENT ON VIEW analytics.metrics_catalog IS 'The effective metric catalog (shared by all tenants): each metric''s meaning, versioned SQL expression over its base relation (analytics.issue_facts or analytics.sprint_facts), aggregations, unit and synonyms. source = builtin (shipped) or user (created or edited; overrides the shipped row).';
COMMENT ON COLUMN analytics.metrics_catalog.version IS 'Bumped on every change of the definition; results name the versions they used.';
COMMENT ON COLUMN analytics.metrics_catalog.entity IS 'The grain the metric is computed on: issue or sprint.';
COMMENT ON COLUMN analytics.metrics_catalog.kind IS 'measure (aggregate a value per row), formula (combine other metrics), snapshot (measured at the end of the period).';
COMMENT ON COLUMN analytics.metrics_catalog.sql_expression IS 'Value per row of the base relation (alias f); for formulas, an expression over {{dependency}} aggregates. {{parameter}} placeholders are bound as query parameters.';
COMMENT ON COLUMN analytics.metrics_catalog.time_field IS 'Column of the base relation that places a row in a period (NULL for snapshots and formulas).';
COMMENT ON COLUMN analytics.metrics_catalog.is_active IS 'false: deprecated (analytics_metric_deprecate); not offered to questions, still inspectable.';
