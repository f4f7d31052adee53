-- The event backbone's tables, created in every service database.

-- Transactional outbox: an event is written in the same transaction as the change it describes
-- and published by the relay afterwards. Published rows are kept for a retention period so an
-- operator can re-publish them (`crm outbox replay`) after a broker loses data.
CREATE TABLE outbox (
    id                uuid PRIMARY KEY,               -- the event id (UUIDv7), also Nats-Msg-Id
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    subject           text        NOT NULL,           -- without the deployment's namespace
    event_type        text        NOT NULL,           -- fully qualified protobuf message name
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    aggregate_version bigint      NOT NULL,
    payload           bytea       NOT NULL,
    traceparent       text,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz,
    attempts          integer     NOT NULL DEFAULT 0,
    last_error        text
);

-- The relay's work queue: only unpublished rows, in commit-sequence order.
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
-- Per-aggregate ordering check and retention clean-up.
CREATE INDEX outbox_unpublished_aggregate ON outbox (aggregate_id, seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX outbox_occurred_at ON outbox (occurred_at);

-- Idempotent consumers: a handler's writes and this row commit together, so an event that is
-- delivered again finds its id here and has no second effect.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX inbox_processed_at ON inbox (processed_at);
