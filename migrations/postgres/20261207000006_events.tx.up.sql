-- The outbox: every change records its events here, in its own transaction
-- (adapters/store/outbox.go). The change feed reads it in the order
-- (xid, position), and only below the oldest transaction still running, so
-- that no event ever appears behind a position a reader has passed
-- (adapters/store/events.go). data is the resource in the API's shape.
CREATE TABLE events (
    id           uuid        PRIMARY KEY,
    position     bigint      GENERATED ALWAYS AS IDENTITY,
    xid          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    type         text        NOT NULL,
    account_id   uuid        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    actor_type   text        NOT NULL,
    actor_id     text,
    subject_type text        NOT NULL,
    subject_id   text        NOT NULL,
    data         jsonb       NOT NULL,
    -- The change can alter a cached check of a credential (see below).
    changes_access boolean   NOT NULL DEFAULT false
);

CREATE INDEX events_feed_idx ON events (xid, position);
CREATE INDEX events_account_feed_idx ON events (account_id, xid, position);
CREATE INDEX events_account_occurred_idx ON events (account_id, occurred_at DESC, id);
CREATE INDEX events_occurred_idx ON events (occurred_at DESC, id);
CREATE INDEX events_subject_idx ON events (subject_id);

-- Replicas cache verified API keys and sessions. They hear of every change
-- that may make a cached verdict wrong through NOTIFY leadr_changes, sent
-- when the writing transaction commits and not at all if it rolls back,
-- with the changed subject's ID as payload. That replaces one trigger per
-- table: whatever changes records an event, and the domain says which
-- events can change a cached verdict (changes_access: a key changed, a
-- session revoked, an identity or a game deleted). Only those notify: a
-- transaction that notifies holds a lock of the whole cluster until its
-- commit is flushed, which made every rename wait for every other. A
-- statement that records many such events (the sessions of a deleted
-- game) sends one "*", "anything may have changed", rather than a flood.
DROP TRIGGER games_notify_delete ON games;
DROP TRIGGER identities_notify_delete ON identities;
DROP TRIGGER sessions_notify_delete ON sessions;
DROP TRIGGER sessions_notify_revoke ON sessions;
DROP TRIGGER api_keys_notify_change ON api_keys;
DROP FUNCTION leadr_notify_change();

CREATE FUNCTION leadr_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM (SELECT 1 FROM recorded WHERE changes_access LIMIT 101) AS r) > 100 THEN
        PERFORM pg_notify('leadr_changes', '*');
    ELSE
        PERFORM pg_notify('leadr_changes', subject_id) FROM recorded WHERE changes_access;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    REFERENCING NEW TABLE AS recorded
    FOR EACH STATEMENT EXECUTE FUNCTION leadr_notify_events();

-- The sessions a deletion leaves live past its bound are revoked by the
-- purge every minute (adapters/store/sessions.go RevokeOrphaned), which
-- starts from the deleted identities: few among many, so indexed alone.
CREATE INDEX identities_deleted_idx ON identities (id) WHERE deleted_at IS NOT NULL;
