-- Who owns an account, as the accounts service published it: a deal may name only an account
-- its creator may see (the same rule as the accounts service's own). NULL: not known yet.
ALTER TABLE account_replicas ADD COLUMN owner_id uuid, ADD COLUMN owner_team_path text;
