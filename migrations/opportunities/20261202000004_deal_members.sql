-- A deal's team members and split holders read the deal (they work it, or are credited with
-- it) though it is out of their reach. Listings find their deals by this column: the user ids
-- of `team` and `splits`, kept by PostgreSQL itself, so no write path can forget it.
ALTER TABLE opportunities ADD COLUMN member_ids jsonb
    GENERATED ALWAYS AS (jsonb_path_query_array(team || splits, '$[*].user_id')) STORED;
CREATE INDEX opportunities_members ON opportunities USING gin (member_ids jsonb_path_ops);
