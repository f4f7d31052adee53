-- The priority board's fourth part: staleness, a deal left without activity past its
-- pipeline's stale_after_days (docs/api.md, "AnalyticsService"). An organisation that never
-- changed the board's settings moves to the new defaults, whose weights again add up to 100
-- (35/30/20/15); one whose admin tuned them keeps its ranking — staleness starts at weight 0
-- there, for the admin to turn on.
ALTER TABLE board_settings
    ADD COLUMN staleness_weight integer NOT NULL DEFAULT 0
        CHECK (staleness_weight BETWEEN 0 AND 100);
ALTER TABLE board_settings DROP CONSTRAINT board_settings_check;
ALTER TABLE board_settings ADD CONSTRAINT board_settings_weights_check
    CHECK (probability_weight + amount_weight + closeness_weight + staleness_weight > 0);
UPDATE board_settings
SET probability_weight = 35, amount_weight = 30, closeness_weight = 20, staleness_weight = 15
WHERE version = 1 AND (probability_weight, amount_weight, closeness_weight) = (40, 35, 25);
