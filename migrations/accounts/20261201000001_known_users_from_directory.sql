-- Whether a known user's team came from the organisation's directory (the gateway's org events)
-- rather than from the user's own token. The directory is authoritative: a token may predate a
-- team move by up to the access-token lifetime, so it never overwrites a directory row.
ALTER TABLE known_users ADD COLUMN from_directory boolean NOT NULL DEFAULT false;
