-- Results of front-door requests sent with an Idempotency-Key: a retry by the same caller with
-- the same key gets the first result instead of a second create. Kept for
-- CRM_IDEMPOTENCY_RETENTION (24h by default), then deleted by the gateway.
CREATE TABLE idempotency_keys (
    caller_id     uuid        NOT NULL,
    idempotency_key text      NOT NULL,
    -- "POST /v1/accounts": a key reused on another operation is refused.
    operation     text        NOT NULL,
    -- SHA-256 of the query and body: a key reused with a different request is refused.
    request_hash  bytea       NOT NULL,
    -- NULL while the first request is in flight.
    status        smallint,
    response      bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, idempotency_key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
