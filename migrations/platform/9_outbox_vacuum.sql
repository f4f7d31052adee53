-- The relay claims the oldest unpublished rows through the partial index outbox_unpublished
-- (seq WHERE published_at IS NULL). Marking a row published cannot be a HOT update (the
-- index's predicate changes), so it leaves a dead entry at the head of that index until a
-- vacuum removes it, and every claim walks all of them: after a million marked rows a claim
-- reads about 2,700 index pages, 16 ms, on every batch (EXPLAIN ANALYZE; 760 ms for the first
-- one, which also sets the hint bits). With PostgreSQL's defaults the outbox is vacuumed only
-- after a fifth of it changed, and the index cleanup is skipped when few pages hold dead rows.
-- So: a vacuum after every 10,000 changed rows (at most one a minute per database with the
-- default naptime; about 0.2 s of work on a million rows), the index entries removed each
-- time, unthrottled.
ALTER TABLE outbox SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_cost_delay = 0,
    vacuum_index_cleanup = on
);
