-- An API key's own rate limit at the front door (set by an admin); both NULL: the gateway's
-- default (CRM_GATEWAY_RATE_LIMIT_*).
ALTER TABLE api_keys
    ADD COLUMN rate_limit_per_second integer,
    ADD COLUMN rate_limit_burst      integer,
    ADD CONSTRAINT api_keys_rate_limit_whole CHECK (
        (rate_limit_per_second IS NULL AND rate_limit_burst IS NULL)
        OR (rate_limit_per_second BETWEEN 1 AND 1000000 AND rate_limit_burst BETWEEN 1 AND 1000000)
    );
