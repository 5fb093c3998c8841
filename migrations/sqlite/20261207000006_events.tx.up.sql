-- The SQLite twin of postgres/20261207000006_events. SQLite's writes are
-- serial, so the order of insertion (position) is the order of commits and
-- the feed needs no transaction IDs; no replica listens, so no trigger.
CREATE TABLE events (
    position     INTEGER   PRIMARY KEY AUTOINCREMENT,
    id           TEXT      NOT NULL UNIQUE,
    type         TEXT      NOT NULL,
    account_id   TEXT      NOT NULL,
    occurred_at  TIMESTAMP NOT NULL,
    actor_type   TEXT      NOT NULL,
    actor_id     TEXT,
    subject_type TEXT      NOT NULL,
    subject_id   TEXT      NOT NULL,
    data         TEXT      NOT NULL,
    changes_access BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX events_account_feed_idx ON events (account_id, position);
CREATE INDEX events_account_occurred_idx ON events (account_id, occurred_at DESC, id);
CREATE INDEX events_occurred_idx ON events (occurred_at DESC, id);
CREATE INDEX events_subject_idx ON events (subject_id);

-- The sessions a deletion leaves live past its bound are revoked by the
-- purge every minute (adapters/store/sessions.go RevokeOrphaned), which
-- starts from the deleted identities: few among many, so indexed alone.
CREATE INDEX identities_deleted_idx ON identities (id) WHERE deleted_at IS NOT NULL;
