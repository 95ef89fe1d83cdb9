-- Documentation of the SQL functions written in Rust (their CREATE FUNCTION statements are generated).
COMMENT ON FUNCTION analytics.analytics_version() IS
  'Versions of agile_analytics, its core, and the PostgreSQL server, plus this session''s tenant: {"extension", "core", "postgres", "tenant_id"}.';

-- Read functions are part of reader access.
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges)
VALUES ('reader', 'function', 'analytics.analytics_version()', 'EXECUTE');
