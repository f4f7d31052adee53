-- The forecast's read model of the pipeline (capability F1): every deal as the opportunities
-- service's deal events last described it, kept by the deal's version (an event not newer than
-- the row changes nothing: redelivery, replay and out-of-order delivery are harmless). Archived
-- deals stay as tombstones at their version and count nowhere.
CREATE TABLE deals (
    id                    uuid PRIMARY KEY,
    version               bigint      NOT NULL,
    name                  text        NOT NULL,
    account_id            uuid        NOT NULL,
    owner_id              uuid        NOT NULL,
    owner_team_path       text        NOT NULL,
    pipeline_id           uuid        NOT NULL,
    stage_id              uuid        NOT NULL,
    stage_name            text        NOT NULL,
    -- crm.opportunities.v1.ForecastCategory: 1 pipeline, 2 best case, 3 commit, 4 closed,
    -- 5 omitted.
    category              smallint    NOT NULL CHECK (category BETWEEN 1 AND 5),
    status                text        NOT NULL CHECK (status IN ('open', 'won', 'lost', 'archived')),
    effective_probability smallint    NOT NULL CHECK (effective_probability BETWEEN 0 AND 100),
    currency              text        NOT NULL,
    amount                numeric     NOT NULL,
    corporate_currency    text,
    corporate_amount      numeric,
    expected_close_date   date        NOT NULL,
    closed_on             date,
    -- [{"user_id": …, "percent": "60"}, …], adding up to 100.
    splits                jsonb       NOT NULL DEFAULT '[]',
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((corporate_currency IS NULL) = (corporate_amount IS NULL))
);
-- The roll-ups: open deals by close date within a team subtree, closed ones by close day.
CREATE INDEX deals_open_by_team ON deals (owner_team_path text_pattern_ops, expected_close_date)
    WHERE status = 'open';
CREATE INDEX deals_closed_by_team ON deals (owner_team_path text_pattern_ops, closed_on)
    WHERE status IN ('won', 'lost');
CREATE INDEX deals_by_owner ON deals (owner_id, expected_close_date);
