-- The user's first day as the directory says (the forecasting service ramps new reps' quotas
-- by it); unknown for a row fed by a token, or filed before the column came, until the next
-- user event.
ALTER TABLE org_users ADD COLUMN started_on date;
