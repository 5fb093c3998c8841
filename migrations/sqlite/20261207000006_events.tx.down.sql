-- The last migration of the release that sealed the service's secrets
-- (20261207000003): an upgraded database rolls the release back as one
-- group, this migration first. Once a start has sealed them, 0003's down
-- refuses; were that found out only there, the migrations after it would
-- be rolled back already, leaving the database half way. So the same
-- refusal comes first here, before anything changes (SQLite has no RAISE
-- outside triggers, so a trigger on a scratch table raises it).
CREATE TEMP TABLE release_downgrade_guard (name TEXT);
CREATE TEMP TRIGGER release_downgrade_guard_raise BEFORE INSERT ON release_downgrade_guard
BEGIN
    SELECT RAISE(ABORT, 'the service''s secrets are sealed under its key, which earlier versions cannot read: rolling back would invalidate every API key and session');
END;
INSERT INTO release_downgrade_guard SELECT name FROM sealed_secrets LIMIT 1;
DROP TRIGGER release_downgrade_guard_raise;
DROP TABLE release_downgrade_guard;

DROP INDEX identities_deleted_idx;
DROP TABLE events;
