-- analytics_grant(role, access): levels, replacing a level, bad input.
CREATE EXTENSION agile_analytics CASCADE;
CREATE ROLE regress_grantee NOLOGIN;
SELECT access, object_type, object_name, privileges FROM analytics.access_privileges ORDER BY access, object_type, object_name;
SELECT analytics.analytics_grant('regress_grantee', 'reader');
SELECT has_schema_privilege('regress_grantee', 'analytics', 'USAGE') AS usage, has_table_privilege('regress_grantee', 'analytics.issues', 'SELECT') AS read_issues, has_table_privilege('regress_grantee', 'analytics.issues', 'INSERT') AS write_issues, has_table_privilege('regress_grantee', 'analytics.metrics_catalog', 'UPDATE') AS edit_catalog;
SELECT analytics.analytics_grant('regress_grantee', 'writer');
SELECT has_table_privilege('regress_grantee', 'analytics.issues', 'INSERT') AS write_issues, has_sequence_privilege('regress_grantee', pg_get_serial_sequence('analytics.issues', 'id'), 'USAGE') AS use_sequence, has_table_privilege('regress_grantee', 'analytics.metrics_catalog', 'UPDATE') AS edit_catalog;
SELECT analytics.analytics_grant('regress_grantee', 'ADMIN');
SELECT has_table_privilege('regress_grantee', 'analytics.metrics_catalog', 'UPDATE') AS edit_catalog;
-- A lower level takes privileges away; none removes everything.
SELECT analytics.analytics_grant('regress_grantee', 'reader');
SELECT has_table_privilege('regress_grantee', 'analytics.issues', 'INSERT') AS write_issues, has_table_privilege('regress_grantee', 'analytics.metrics_catalog', 'UPDATE') AS edit_catalog;
SELECT analytics.analytics_grant('regress_grantee', 'none');
SELECT has_schema_privilege('regress_grantee', 'analytics', 'USAGE') AS usage, has_table_privilege('regress_grantee', 'analytics.issues', 'SELECT') AS read_issues;
-- Bad input.
SELECT analytics.analytics_grant('regress_grantee', 'owner');
SELECT analytics.analytics_grant('regress_grantee', NULL);
SELECT analytics.analytics_grant(NULL, 'reader');
SELECT analytics.analytics_grant('no_such_role', 'reader');
-- Only the extension's owner (or a superuser) may hand out access.
SELECT analytics.analytics_grant('regress_grantee', 'admin');
SET ROLE regress_grantee;
SELECT analytics.analytics_grant('regress_grantee', 'admin');
RESET ROLE;
DROP EXTENSION agile_analytics CASCADE;
DROP ROLE regress_grantee;
