-- Forecast calls (capability F4): every call a rep makes of their own period, or a manager of
-- their team's, kept as it was made — never updated, never deleted — with what the pipeline
-- said at that moment. The current call of a scope is its latest.
CREATE TABLE forecast_calls (
    id                     uuid PRIMARY KEY,
    -- A rep's own call (user_id) or a team's (the team subtree of team_path).
    kind                   text        NOT NULL CHECK (kind IN ('rep', 'team')),
    user_id                uuid,
    -- The team: a team call's own, a rep call's rep's team when it was made (whose managers
    -- read it).
    team_path              text        NOT NULL,
    -- The fiscal period: its kind and first day (a label's meaning follows the fiscal
    -- calendar, its days do not), and the label as it was when the call was made.
    period_kind            text        NOT NULL CHECK (period_kind IN ('month', 'quarter', 'year')),
    period_start           date        NOT NULL,
    period_end             date        NOT NULL,
    period_label           text        NOT NULL,
    submitted_by           uuid        NOT NULL,
    submitted_at           timestamptz NOT NULL,
    -- The corporate currency of every amount of the row.
    currency               text        NOT NULL,
    commit_amount          numeric     NOT NULL CHECK (commit_amount >= 0),
    best_case_amount       numeric     NOT NULL CHECK (best_case_amount >= commit_amount),
    pipeline_amount        numeric     NOT NULL CHECK (pipeline_amount >= best_case_amount),
    -- A team call: the current calls below it when it was made, and the manager's adjustment.
    rolled_up_commit       numeric,
    rolled_up_best_case    numeric,
    rolled_up_pipeline     numeric,
    adjustment_commit      numeric,
    adjustment_best_case   numeric,
    adjustment_pipeline    numeric,
    note                   text        NOT NULL DEFAULT '',
    -- The scope's pipeline at that moment (the read model's sums): won in the period so far,
    -- and the open deals by effective category.
    pipeline_closed        numeric     NOT NULL,
    pipeline_commit        numeric     NOT NULL,
    pipeline_best_case     numeric     NOT NULL,
    pipeline_pipeline      numeric     NOT NULL,
    pipeline_omitted       numeric     NOT NULL,
    CHECK ((kind = 'rep') = (user_id IS NOT NULL)),
    CHECK ((kind = 'team') = (rolled_up_commit IS NOT NULL AND adjustment_commit IS NOT NULL))
);
CREATE INDEX forecast_calls_by_rep ON forecast_calls (user_id, period_start, submitted_at)
    WHERE kind = 'rep';
CREATE INDEX forecast_calls_by_team ON forecast_calls
    (team_path text_pattern_ops, period_start, submitted_at);

-- Weekly snapshots of the pipeline (capability F5): one per ISO week, whatever the number of
-- replicas (the week is the key; the job's advisory lock spares the others the work).
CREATE TABLE snapshot_weeks (
    -- The Monday of the ISO week (UTC).
    week_start date        PRIMARY KEY,
    taken_at   timestamptz NOT NULL,
    deal_count bigint      NOT NULL
);

-- Every open deal of the read model as the week's snapshot found it, and the deals won or lost
-- within the year before (so a movement between two snapshots up to a year apart sees how a
-- deal left the pipeline). Only deals with a corporate amount: the others add up to nothing.
CREATE TABLE snapshot_deals (
    week_start          date     NOT NULL REFERENCES snapshot_weeks ON DELETE CASCADE,
    deal_id             uuid     NOT NULL,
    owner_id            uuid     NOT NULL,
    owner_team_path     text     NOT NULL,
    status              text     NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    -- The effective forecast category (crm.opportunities.v1.ForecastCategory).
    category            smallint NOT NULL CHECK (category BETWEEN 1 AND 5),
    currency            text     NOT NULL,
    amount              numeric  NOT NULL,
    expected_close_date date     NOT NULL,
    PRIMARY KEY (week_start, deal_id)
);
-- A movement reads the deals of a period's pipeline at two snapshots.
CREATE INDEX snapshot_deals_open_by_close ON snapshot_deals (week_start, expected_close_date)
    WHERE status = 'open';
