-- Marking a row published should touch as little as possible: retention clean-up now finds
-- published rows through occurred_at (rows are published moments after they occur), so the
-- published_at index, which every mark had to update, goes.
DROP INDEX IF EXISTS outbox_published_at;
