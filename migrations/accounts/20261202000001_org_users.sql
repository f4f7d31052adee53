-- The users this service knows now live in the platform's org_users (crm_platform::org), which
-- every service keeps the same way. Carry over what known_users held, then drop it.
INSERT INTO org_users (user_id, team_path, from_directory, updated_at)
SELECT user_id, team_path, from_directory, updated_at FROM known_users
ON CONFLICT (user_id) DO NOTHING;
DROP TABLE known_users;
