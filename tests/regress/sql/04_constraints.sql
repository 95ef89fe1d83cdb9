-- Constraints keep the data the metrics rely on well-formed.
CREATE EXTENSION agile_analytics CASCADE;
SET analytics.tenant_id = 'acme';
INSERT INTO analytics.issues (issue_key, created_at) VALUES ('ACME-1', '2025-01-01') RETURNING id;
INSERT INTO analytics.issues (issue_key, created_at) VALUES ('ACME-1', '2025-01-01');
INSERT INTO analytics.issues (instance_id, issue_key, created_at) VALUES ('jira2', 'ACME-1', '2025-01-01');
INSERT INTO analytics.issues (issue_key) VALUES ('ACME-2');
INSERT INTO analytics.issues (issue_key, created_at, status_category) VALUES ('ACME-3', '2025-03-01 10:00+00', 'doing');
INSERT INTO analytics.issues (issue_key, created_at, story_points) VALUES ('ACME-4', '2025-03-01 10:00+00', -2);
INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('', 'ACME-5', '2025-03-01 10:00+00');
INSERT INTO analytics.issue_transitions (issue_id, to_status, to_category, changed_at) VALUES (1, 'Doing', 'doing', '2025-03-01 10:00+00');
INSERT INTO analytics.issue_transitions (issue_id, to_status) VALUES (1, 'Done');
INSERT INTO analytics.issue_changes (issue_id, field, changed_at) VALUES (1, 'Story Points', '2025-03-01 10:00+00');
INSERT INTO analytics.sprints (board, name, state) VALUES ('b', 's', 'open');
INSERT INTO analytics.sprints (board, name, state, start_date) VALUES ('b', 's', 'closed', '2025-03-01 10:00+00');
INSERT INTO analytics.sprints (board, name, start_date, end_date) VALUES ('b', 's', '2025-01-15', '2025-01-01');
INSERT INTO analytics.sprints (id, external_id, board, name, state, start_date, end_date) VALUES (1, 7, 'b', 's', 'active', '2025-01-01', '2025-01-15');
INSERT INTO analytics.sprints (external_id, board, name) VALUES (7, 'b', 'duplicate external id');
INSERT INTO analytics.sprint_issues (sprint_id, issue_id, added_at, removed_at) VALUES (1, 1, '2025-01-05', '2025-01-02');
INSERT INTO analytics.sprint_issues (sprint_id, issue_id, added_at) VALUES (1, 99, '2025-01-05');
-- Deleting an issue removes its history and memberships.
INSERT INTO analytics.issue_transitions (issue_id, to_status, to_category, changed_at) VALUES (1, 'To Do', 'todo', '2025-01-01');
INSERT INTO analytics.sprint_issues (sprint_id, issue_id, added_at) VALUES (1, 1, '2025-01-01');
DELETE FROM analytics.issues WHERE id = 1;
SELECT (SELECT count(*) FROM analytics.issue_transitions) AS transitions, (SELECT count(*) FROM analytics.sprint_issues) AS memberships;
DROP EXTENSION agile_analytics CASCADE;
