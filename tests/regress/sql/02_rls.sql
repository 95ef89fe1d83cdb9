-- Tenant isolation, as non-superuser roles. Two tenants; tenant_a's writer tries everything on tenant_b.
CREATE EXTENSION agile_analytics CASCADE;
CREATE ROLE regress_writer NOLOGIN;
CREATE ROLE regress_reader NOLOGIN;
SELECT analytics.analytics_grant('regress_writer', 'writer');
SELECT analytics.analytics_grant('regress_reader', 'reader');
-- Seed one row per table for each tenant, as the superuser.
INSERT INTO analytics.issues (id, tenant_id, issue_key, project_key, summary, status, status_category, story_points, created_at) VALUES (1, 'tenant_a', 'A-1', 'A', 'a secret', 'To Do', 'todo', 3, '2025-01-01'), (2, 'tenant_b', 'B-1', 'B', 'b secret', 'Done', 'done', 5, '2025-01-01');
INSERT INTO analytics.sprints (id, tenant_id, external_id, board, name, state, start_date, end_date) VALUES (1, 'tenant_a', 10, 'A board', 'A 1', 'active', '2025-01-02', '2025-01-16'), (2, 'tenant_b', 10, 'B board', 'B 1', 'active', '2025-01-02', '2025-01-16');
INSERT INTO analytics.issue_transitions (tenant_id, issue_id, from_status, to_status, from_category, to_category, changed_at) VALUES ('tenant_a', 1, NULL, 'To Do', NULL, 'todo', '2025-01-01'), ('tenant_b', 2, 'In Progress', 'Done', 'in_progress', 'done', '2025-01-05');
INSERT INTO analytics.issue_changes (tenant_id, issue_id, field, from_value, to_value, changed_at) VALUES ('tenant_a', 1, 'story_points', NULL, '3', '2025-01-01'), ('tenant_b', 2, 'story_points', NULL, '5', '2025-01-01');
INSERT INTO analytics.issue_comments (tenant_id, issue_id, author, body, created_at) VALUES ('tenant_a', 1, 'ann', 'a comment', '2025-01-03'), ('tenant_b', 2, 'bob', 'b comment', '2025-01-03');
INSERT INTO analytics.sprint_issues (tenant_id, sprint_id, issue_id, added_at) VALUES ('tenant_a', 1, 1, '2025-01-01'), ('tenant_b', 2, 2, '2025-01-01');
SET ROLE regress_writer;
-- No tenant set: every table looks empty, and nothing can be written.
SELECT (SELECT count(*) FROM analytics.issues) AS issues, (SELECT count(*) FROM analytics.issue_transitions) AS transitions, (SELECT count(*) FROM analytics.issue_changes) AS changes, (SELECT count(*) FROM analytics.issue_comments) AS comments, (SELECT count(*) FROM analytics.sprints) AS sprints, (SELECT count(*) FROM analytics.sprint_issues) AS sprint_issues;
INSERT INTO analytics.issues (issue_key, created_at) VALUES ('X-1', now());
INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('tenant_a', 'X-1', now());
-- An empty tenant is no tenant.
SET analytics.tenant_id = '';
SELECT count(*) FROM analytics.issues;
-- Tenant A sees only its own rows.
SET analytics.tenant_id = 'tenant_a';
SELECT analytics.current_tenant();
SELECT tenant_id, issue_key, summary FROM analytics.issues ORDER BY id;
SELECT (SELECT count(*) FROM analytics.issue_transitions) AS transitions, (SELECT count(*) FROM analytics.issue_changes) AS changes, (SELECT count(*) FROM analytics.issue_comments) AS comments, (SELECT count(*) FROM analytics.sprints) AS sprints, (SELECT count(*) FROM analytics.sprint_issues) AS sprint_issues;
SELECT count(*) FROM analytics.issues WHERE tenant_id = 'tenant_b' OR id = 2;
-- Updates and deletes of B's rows touch nothing.
UPDATE analytics.issues SET summary = 'pwned' WHERE id = 2;
UPDATE analytics.issue_transitions SET to_status = 'pwned' WHERE tenant_id = 'tenant_b';
UPDATE analytics.issue_changes SET to_value = 'pwned' WHERE tenant_id = 'tenant_b';
UPDATE analytics.issue_comments SET body = 'pwned' WHERE tenant_id = 'tenant_b';
UPDATE analytics.sprints SET name = 'pwned' WHERE id = 2;
UPDATE analytics.sprint_issues SET removed_at = now() WHERE tenant_id = 'tenant_b';
DELETE FROM analytics.issues WHERE id = 2;
DELETE FROM analytics.issue_transitions WHERE tenant_id = 'tenant_b';
DELETE FROM analytics.issue_changes WHERE tenant_id = 'tenant_b';
DELETE FROM analytics.issue_comments WHERE tenant_id = 'tenant_b';
DELETE FROM analytics.sprints WHERE id = 2;
DELETE FROM analytics.sprint_issues WHERE tenant_id = 'tenant_b';
-- Inserting rows for B is refused by the policies' WITH CHECK.
INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('tenant_b', 'B-2', now());
INSERT INTO analytics.issue_transitions (tenant_id, issue_id, to_status, changed_at) VALUES ('tenant_b', 2, 'To Do', now());
INSERT INTO analytics.issue_changes (tenant_id, issue_id, field, changed_at) VALUES ('tenant_b', 2, 'priority', now());
INSERT INTO analytics.issue_comments (tenant_id, issue_id, body, created_at) VALUES ('tenant_b', 2, 'hi', now());
INSERT INTO analytics.sprints (tenant_id, board, name) VALUES ('tenant_b', 'B board', 'B 2');
INSERT INTO analytics.sprint_issues (tenant_id, sprint_id, issue_id, added_at) VALUES ('tenant_b', 2, 2, now());
-- Moving an own row to B is refused too.
UPDATE analytics.issues SET tenant_id = 'tenant_b' WHERE id = 1;
UPDATE analytics.sprints SET tenant_id = 'tenant_b' WHERE id = 1;
-- A's rows cannot point at B's issue or sprint: foreign keys include tenant_id.
INSERT INTO analytics.issue_comments (tenant_id, issue_id, body, created_at) VALUES ('tenant_a', 2, 'hi', now());
INSERT INTO analytics.sprint_issues (tenant_id, sprint_id, issue_id, added_at) VALUES ('tenant_a', 2, 1, now());
-- A's own writes work, with tenant_id taken from the session.
INSERT INTO analytics.issues (issue_key, created_at) VALUES ('A-2', '2025-02-01') RETURNING tenant_id, issue_key;
-- The reader reads and cannot write at all.
SET ROLE regress_reader;
SELECT count(*) FROM analytics.issues;
INSERT INTO analytics.issues (issue_key, created_at) VALUES ('A-3', now());
DELETE FROM analytics.issues;
-- Back as the superuser: B's rows are intact.
RESET ROLE;
SELECT tenant_id, issue_key, summary FROM analytics.issues ORDER BY id;
SELECT tenant_id, to_status FROM analytics.issue_transitions ORDER BY id;
SELECT tenant_id, to_value FROM analytics.issue_changes ORDER BY id;
SELECT tenant_id, body FROM analytics.issue_comments ORDER BY id;
SELECT tenant_id, name FROM analytics.sprints ORDER BY id;
SELECT tenant_id, sprint_id, issue_id, removed_at FROM analytics.sprint_issues ORDER BY id;
DROP EXTENSION agile_analytics CASCADE;
DROP ROLE regress_writer;
DROP ROLE regress_reader;
