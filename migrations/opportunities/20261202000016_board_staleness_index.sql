-- The board's staleness part reads each open deal's last activity: the owner's covering index
-- of open deals carries it, so the board stays an index-only scan (docs/benchmarks.md).
DROP INDEX opportunities_owner_open;
CREATE INDEX opportunities_owner_open ON opportunities (owner_id, pipeline_id)
    INCLUDE (id, effective_probability, expected_close_date, corporate_currency, corporate_amount,
             last_activity_at)
    WHERE status = 1;
