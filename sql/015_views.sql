-- Specs published as plain views for BI tools (analytics_create_view / analytics_drop_view).
-- The views live in schema analytics_views, run as whoever queries them (security_invoker) and select
-- that session's tenant, so one view serves every tenant.

CREATE SCHEMA analytics_views;
COMMENT ON SCHEMA analytics_views IS 'agile_analytics: AnalyticsSpecs published as views for BI tools (Metabase, Grafana, Superset, psql). Each shows the querying session''s tenant.';

CREATE TABLE analytics.spec_views (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    spec       jsonb NOT NULL,
    spec_hash  text NOT NULL,
    created_by text NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.spec_views IS 'The views in schema analytics_views and the canonical spec behind each.';
SELECT pg_catalog.pg_extension_config_dump('analytics.spec_views', '');

INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'schema', 'analytics_views', 'USAGE'),
    ('reader', 'table', 'analytics.spec_views', 'SELECT'),
    ('admin', 'schema', 'analytics_views', 'CREATE'),
    ('admin', 'table', 'analytics.spec_views', 'INSERT, UPDATE, DELETE');
