-- Work reports (capability O7, docs/adr/0014-deal-desk-in-opportunities.md): the reports the
-- schedule generates for each completed week and month. Reports computed on demand are not
-- kept.

CREATE TABLE work_reports (
    id            uuid PRIMARY KEY,
    -- A rep's report: the rep; a team's: NULL.
    user_id       uuid,
    -- A team's report: the team; a rep's: their team when it was generated (who reads it
    -- follows from these two, as for every owned row).
    team_path     text        NOT NULL,
    period_kind   text        NOT NULL CHECK (period_kind IN ('week', 'month')),
    period_start  date        NOT NULL,
    period_end    date        NOT NULL CHECK (period_end >= period_start),
    time_zone     text        NOT NULL,
    -- The crm.opportunities.v1.WorkReport message as it was generated (protobuf): a document
    -- of what was true then, read back whole.
    report        bytea       NOT NULL,
    generated_at  timestamptz NOT NULL
);
-- One report per subject and period (a team's has no user: NULLS NOT DISTINCT).
CREATE UNIQUE INDEX work_reports_one_per_period
    ON work_reports (period_kind, period_start, team_path, user_id) NULLS NOT DISTINCT;
CREATE INDEX work_reports_of_user ON work_reports (user_id, period_start DESC, id DESC);
CREATE INDEX work_reports_of_team ON work_reports (team_path text_pattern_ops, period_start DESC);
CREATE INDEX work_reports_by_period ON work_reports (period_start DESC, id DESC);

-- The periods whose reports were generated: the schedule's claim, written in the transaction
-- that inserts the period's reports and enqueues their events, so a period is generated once
-- however many replicas tick.
CREATE TABLE generated_work_periods (
    period_kind   text        NOT NULL CHECK (period_kind IN ('week', 'month')),
    period_start  date        NOT NULL,
    generated_at  timestamptz NOT NULL,
    PRIMARY KEY (period_kind, period_start)
);
