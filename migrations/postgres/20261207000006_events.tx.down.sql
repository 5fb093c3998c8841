-- The last migration of the release that sealed the service's secrets
-- (20261207000003): an upgraded database rolls the release back as one
-- group, this migration first. Once a start has sealed them, 0003's down
-- refuses; were that found out only there, the migrations after it would
-- be rolled back already, leaving the database half way. So the same
-- refusal comes first here, before anything changes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sealed_secrets) THEN
        RAISE EXCEPTION 'the service''s secrets are sealed under LEADR_ENCRYPTION_KEY, which earlier versions cannot read: rolling back would invalidate every API key and session';
    END IF;
END $$;

DROP INDEX identities_deleted_idx;
DROP TRIGGER events_notify ON events;
DROP FUNCTION leadr_notify_events();
DROP TABLE events;

-- (The triggers of 20261202000001_notify_changes, as they were.)
-- Replicas cache verified API keys and sessions; these triggers tell every
-- replica, through NOTIFY leadr_changes, of the changes that may make a
-- cached verdict wrong. NOTIFY is sent when the writing transaction
-- commits, and not at all if it rolls back. Payload: "kind:id".
CREATE FUNCTION leadr_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadr_changes', TG_ARGV[0] || ':' || OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_notify_change AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION leadr_notify_change('api_key');

-- Refreshes update sessions too; only a revocation matters. Revoking all
-- the sessions of a deleted identity or game sets leadr.bulk_revoke: the
-- deletion's own notification covers them, and one per session would flood
-- every replica. The purge deletes only dead sessions, which no replica may
-- have cached.
CREATE TRIGGER sessions_notify_revoke AFTER UPDATE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
        AND current_setting('leadr.bulk_revoke', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION leadr_notify_change('session');
CREATE TRIGGER sessions_notify_delete AFTER DELETE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND OLD.refresh_expires_at > now())
    EXECUTE FUNCTION leadr_notify_change('session');

-- Renames are frequent and change no verdict; deletions refuse sessions.
CREATE TRIGGER identities_notify_delete AFTER UPDATE ON identities
    FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION leadr_notify_change('identity');
CREATE TRIGGER games_notify_delete AFTER UPDATE ON games
    FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION leadr_notify_change('game');
