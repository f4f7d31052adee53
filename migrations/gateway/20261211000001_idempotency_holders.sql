-- Who runs the first request of a key: a claim is held by a gateway process (holder), which
-- shows it is alive by renewing its row in gateway_instances every second. A claim whose
-- holder stopped renewing (killed, crashed) is taken over within seconds by a retry, which
-- forwards the key to the service: the service answers with the first request's stored reply
-- when its write committed (crm_platform::replies), so the take-over never writes twice.
ALTER TABLE idempotency_keys
    ADD COLUMN holder uuid,
    ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE gateway_instances (
    instance_id uuid        PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now()
);
