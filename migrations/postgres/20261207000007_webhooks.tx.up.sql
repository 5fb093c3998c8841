-- Webhooks (section 10): the endpoints, the durable queue of their
-- deliveries (one row an attempt, which is also the delivery log), where
-- the fan-out stopped reading the change feed, and the replays in
-- progress (adapters/store/webhooks.go, deliveries.go).
CREATE TABLE webhooks (
    id              uuid        PRIMARY KEY,
    account_id      uuid        NOT NULL CONSTRAINT webhooks_account_fkey REFERENCES accounts (id),
    url             text        NOT NULL,
    -- The patterns, space-separated: none holds a space.
    event_types     text        NOT NULL,
    description     text,
    status          text        NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason text,
    -- AES-GCM sealed by the service; never the plaintext; none once deleted.
    secret          bytea,
    previous_secret bytea,
    previous_until  timestamptz,
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz
);

CREATE INDEX webhooks_account_created_idx ON webhooks (account_id, created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX webhooks_created_idx ON webhooks (created_at DESC, id) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY,
    webhook_id      uuid        NOT NULL CONSTRAINT webhook_deliveries_webhook_fkey REFERENCES webhooks (id),
    -- Not a foreign key: events go at their retention, their log stays.
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    attempt         integer     NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    due_at          timestamptz NOT NULL,
    -- A replica that claims an attempt makes it alone until leased_until;
    -- its token proves the lease is still its own when it completes.
    lease_token     uuid,
    leased_until    timestamptz,
    response_status integer,
    error           text,
    duration_ms     integer,
    created_at      timestamptz NOT NULL
);

CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, due_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (due_at) WHERE status = 'pending';

-- One row: the feed position the fan-out has read up to. It starts at the
-- newest event, since no endpoint existed to want the older ones.
CREATE TABLE webhook_fanout (
    id       integer PRIMARY KEY CHECK (id = 1),
    xid      xid8    NOT NULL,
    position bigint  NOT NULL
);
INSERT INTO webhook_fanout (id, xid, position)
SELECT 1, coalesce(max(xid), '0'::xid8), 0 FROM events;
UPDATE webhook_fanout SET position = coalesce((SELECT max(position) FROM events WHERE xid = webhook_fanout.xid), 0);

CREATE TABLE webhook_replays (
    id         uuid        PRIMARY KEY,
    webhook_id uuid        NOT NULL CONSTRAINT webhook_replays_webhook_fkey REFERENCES webhooks (id),
    account_id uuid        NOT NULL,
    -- The replay has scheduled the events up to (after_at, after_id), and
    -- goes on to until_at.
    after_at   timestamptz NOT NULL,
    after_id   uuid        NOT NULL,
    until_at   timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
