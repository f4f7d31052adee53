-- Migration 9 vacuumed the outbox after every 10,000 changed rows, unthrottled, with its index
-- entries cleaned, to keep the relay's claim from walking dead index entries. Measured at a
-- million deals (crm-bench forecast, docs/benchmarks.md "Forecasting", 2026-12-03 16:11) it made
-- things far worse: each such vacuum cleans every index of a million-row table, back to back,
-- and the relay's commit → JetStream p99 went from 76 ms to 2,775 ms, the rebuild from 149 s
-- to 254 s. PostgreSQL's own autovacuum settings again; the claim's dead entries are to be
-- solved by the claim itself, not by vacuuming a growing table.
ALTER TABLE outbox RESET (
    autovacuum_vacuum_scale_factor,
    autovacuum_vacuum_threshold,
    autovacuum_vacuum_cost_delay,
    vacuum_index_cleanup
);
