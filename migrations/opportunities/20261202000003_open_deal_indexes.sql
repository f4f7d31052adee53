-- Open deals read whole-table figures every call: the funnel's open-deal count and amount per
-- pipeline (the company view) and the priority board's scoring columns per owner. Both become
-- index-only scans of the open deals instead of reading the deals' heap (docs/benchmarks.md,
-- 2026-12-02: the company view's open-deal statement read the whole 604 MB table).

-- The funnel: open deals of a pipeline, counted and summed, with the visibility columns.
CREATE INDEX opportunities_pipeline_open ON opportunities (pipeline_id)
    INCLUDE (owner_id, owner_team_path, corporate_currency, corporate_amount)
    WHERE status = 1;

-- The board (and a rep's funnel): the owner's open deals with what their score needs.
DROP INDEX opportunities_owner_open;
CREATE INDEX opportunities_owner_open ON opportunities (owner_id, pipeline_id)
    INCLUDE (id, effective_probability, expected_close_date, corporate_currency, corporate_amount)
    WHERE status = 1;
