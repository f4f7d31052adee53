-- The replies of calls sent with an idempotency key (gRPC metadata `crm-idempotency-key`; the
-- front door forwards each request's Idempotency-Key so): a call whose key is here already
-- committed its write, and a retry gets this reply instead of a second write. The row is
-- written in the same transaction as the call's write (crm_platform::replies), so a write and
-- its key commit together or not at all. Kept for CRM_REPLY_RETENTION (24h by default).
CREATE TABLE request_replies (
    -- The caller's user id (from the token): keys are per caller.
    caller_id   uuid        NOT NULL,
    request_key text        NOT NULL,
    -- `/crm.leads.v1.LeadService/CreateLead`: a key reused on another method is refused.
    method      text        NOT NULL,
    -- The reply's gRPC status code; NULL only when a call that committed more than once died
    -- between its first commit and its reply.
    code        smallint,
    -- The reply's status message and google.rpc.Status details (errors).
    message     text        NOT NULL DEFAULT '',
    details     bytea,
    -- The reply's body as sent: the gRPC length-prefixed response message (OK replies).
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, request_key)
);

CREATE INDEX request_replies_created_at ON request_replies (created_at);
