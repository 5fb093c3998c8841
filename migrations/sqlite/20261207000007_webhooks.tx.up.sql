-- The SQLite twin of postgres/20261207000007_webhooks. The fan-out's place
-- is a position alone: SQLite's writes are serial, so insertion order is
-- commit order.
CREATE TABLE webhooks (
    id              TEXT      PRIMARY KEY,
    account_id      TEXT      NOT NULL CONSTRAINT webhooks_account_fkey REFERENCES accounts (id),
    url             TEXT      NOT NULL,
    event_types     TEXT      NOT NULL,
    description     TEXT,
    status          TEXT      NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason TEXT,
    secret          BLOB,
    previous_secret BLOB,
    previous_until  TIMESTAMP,
    failing_since   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP
);

CREATE INDEX webhooks_account_created_idx ON webhooks (account_id, created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX webhooks_created_idx ON webhooks (created_at DESC, id) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
    id              TEXT      PRIMARY KEY,
    webhook_id      TEXT      NOT NULL CONSTRAINT webhook_deliveries_webhook_fkey REFERENCES webhooks (id),
    event_id        TEXT      NOT NULL,
    event_type      TEXT      NOT NULL,
    attempt         INTEGER   NOT NULL,
    status          TEXT      NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    due_at          TIMESTAMP NOT NULL,
    lease_token     TEXT,
    leased_until    TIMESTAMP,
    response_status INTEGER,
    error           TEXT,
    duration_ms     INTEGER,
    created_at      TIMESTAMP NOT NULL
);

CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, due_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (due_at) WHERE status = 'pending';

CREATE TABLE webhook_fanout (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT INTO webhook_fanout (id, position) SELECT 1, coalesce(max(position), 0) FROM events;

CREATE TABLE webhook_replays (
    id         TEXT      PRIMARY KEY,
    webhook_id TEXT      NOT NULL CONSTRAINT webhook_replays_webhook_fkey REFERENCES webhooks (id),
    account_id TEXT      NOT NULL,
    after_at   TIMESTAMP NOT NULL,
    after_id   TEXT      NOT NULL,
    until_at   TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
