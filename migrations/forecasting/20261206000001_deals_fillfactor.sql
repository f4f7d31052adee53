-- A deal's row is rewritten on every change of the deal (its amount, stage, probability,
-- category …), and most changes touch none of the table's indexed columns. Room left on each
-- page lets PostgreSQL write the new version beside the old one (a HOT update: no new entry in
-- any of the table's six indexes) instead of on another page with a new entry in each.
-- Measured on 200,000 deals, 10,000 amount changes of deals on distinct pages after a
-- checkpoint: 0 of them HOT at the default fill factor, all 10,000 at 85, the WAL written
-- 54 MB → 45 MB; the table 14% larger. Pages written from now on keep the room; a rebuild of
-- the read model rewrites them all.
ALTER TABLE deals SET (fillfactor = 85);
