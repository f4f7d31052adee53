-- Calendar feeds (O7): one per user at most, named by a secret token of which only the
-- SHA-256 is kept (a leaked table gives no working feed URL). Issuing again rotates the token;
-- revoking deletes the row.
CREATE TABLE calendar_feeds (
    user_id       uuid        PRIMARY KEY,
    token_sha256  bytea       NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    issued_at     timestamptz NOT NULL
);
