-- The metrics catalog: the vocabulary of the product (filled from catalog/ by the metrics catalog work).
-- It holds definitions, not tenant data, so it is the one table shared by all tenants: every role with
-- reader access may read it, only admins may change it.

CREATE TABLE analytics.metrics_catalog (
    name                 text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    display_name         text NOT NULL,
    description          text NOT NULL,
    category             text NOT NULL,
    version              integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    entity               text NOT NULL CHECK (entity IN ('issue', 'sprint')),
    base_relation        text NOT NULL,
    sql_expression       text NOT NULL,
    parameters           jsonb NOT NULL DEFAULT '{}',
    default_aggregation  text NOT NULL,
    allowed_aggregations text[] NOT NULL,
    unit                 text NOT NULL CHECK (unit IN ('count', 'points', 'days', 'hours', 'ratio', 'score')),
    tags                 text[] NOT NULL DEFAULT '{}',
    synonyms             text[] NOT NULL DEFAULT '{}',
    dependencies         text[] NOT NULL DEFAULT '{}',
    weights              jsonb,
    is_active            boolean NOT NULL DEFAULT true,
    is_builtin           boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.metrics_catalog IS 'Metric definitions (shared by all tenants): name, meaning, versioned SQL expression over a documented base relation, aggregations, unit, synonyms for natural-language questions.';
COMMENT ON COLUMN analytics.metrics_catalog.version IS 'Bumped on every change of the definition; results name the versions they used.';
COMMENT ON COLUMN analytics.metrics_catalog.entity IS 'The grain the metric is computed on: issue or sprint.';
COMMENT ON COLUMN analytics.metrics_catalog.is_builtin IS 'Shipped with the extension (false: created by a user; user rows are kept by pg_dump).';
