-- Whether a roster row's team came from the organisation's directory (the gateway's org events).
-- The directory is authoritative: a rep's own new and claimed leads are filed under this team
-- rather than the one in their token (which may predate a team move by up to the access-token
-- lifetime), and sales operations cannot put such a rep in another team.
ALTER TABLE reps ADD COLUMN from_directory boolean NOT NULL DEFAULT false;
