-- Which team a user's new and claimed leads are filed under is now read from the platform's
-- org_users (crm_platform::org), kept from the gateway's org events as every service keeps it.
-- Carry over what the roster had from the directory; version 0, so the next org event for the
-- user (its version is at least 1) applies.
INSERT INTO org_users (user_id, team_path, display_name, active, from_directory, version, updated_at)
SELECT rep_id, team_path, display_name, active, true, 0, updated_at FROM reps WHERE from_directory
ON CONFLICT (user_id) DO NOTHING;
