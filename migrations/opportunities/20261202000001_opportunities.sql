-- Pipelines, deals, stage history, the audit trail and the funnel's monthly roll-up
-- (domain.md O1–O5, O9, O10).

CREATE TABLE pipelines (
    id           uuid PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description  text        NOT NULL DEFAULT '',
    product_line text        NOT NULL DEFAULT '',
    is_default   boolean     NOT NULL DEFAULT false,
    version      bigint      NOT NULL DEFAULT 1,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipelines_name ON pipelines (lower(name));
-- One default pipeline at most: where deals that name none go.
CREATE UNIQUE INDEX pipelines_one_default ON pipelines ((true)) WHERE is_default;

CREATE TABLE stages (
    id                  uuid PRIMARY KEY,
    pipeline_id         uuid        NOT NULL REFERENCES pipelines (id),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position            integer     NOT NULL CHECK (position >= 1),
    kind                smallint    NOT NULL CHECK (kind IN (1, 2, 3)),       -- open, won, lost
    default_probability smallint    NOT NULL CHECK (default_probability BETWEEN 0 AND 100),
    forecast_category   smallint    NOT NULL CHECK (forecast_category BETWEEN 1 AND 5),
    exit_criteria       text[]      NOT NULL DEFAULT '{}',
    guidance            jsonb       NOT NULL DEFAULT '{}',
    retired             boolean     NOT NULL DEFAULT false,
    -- Reordering moves positions within one transaction.
    CONSTRAINT stages_position UNIQUE (pipeline_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE close_reasons (
    id         uuid PRIMARY KEY,
    outcome    smallint    NOT NULL CHECK (outcome IN (1, 2)),  -- won, lost
    label      text        NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    retired    boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX close_reasons_label ON close_reasons (outcome, lower(label));

CREATE TABLE competitors (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    website     text        NOT NULL DEFAULT '',
    description text        NOT NULL DEFAULT '',
    retired     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX competitors_name ON competitors (lower(name));

-- The priority board's weights and scales (one row).
CREATE TABLE board_settings (
    singleton          boolean  PRIMARY KEY DEFAULT true CHECK (singleton),
    probability_weight integer  NOT NULL CHECK (probability_weight BETWEEN 0 AND 100),
    amount_weight      integer  NOT NULL CHECK (amount_weight BETWEEN 0 AND 100),
    closeness_weight   integer  NOT NULL CHECK (closeness_weight BETWEEN 0 AND 100),
    amount_scale       numeric  NOT NULL CHECK (amount_scale > 0),
    close_horizon_days integer  NOT NULL CHECK (close_horizon_days BETWEEN 1 AND 3650),
    version            bigint   NOT NULL DEFAULT 1,
    CHECK (probability_weight + amount_weight + closeness_weight > 0)
);
INSERT INTO board_settings (probability_weight, amount_weight, closeness_weight, amount_scale, close_horizon_days)
VALUES (40, 35, 25, 1000000, 90);

-- Accounts and contacts as the accounts service published them (deals and committees name
-- them). Version 0: known only from a lead's conversion, before the accounts service's own
-- event arrived.
CREATE TABLE account_replicas (
    id          uuid PRIMARY KEY,
    name        text     NOT NULL DEFAULT '',
    status      smallint NOT NULL DEFAULT 1,  -- 1 active, 2 archived, 3 merged (accounts' values)
    merged_into uuid,
    version     bigint   NOT NULL
);
CREATE TABLE contact_replicas (
    id          uuid PRIMARY KEY,
    account_id  uuid     NOT NULL,
    full_name   text     NOT NULL DEFAULT '',
    status      smallint NOT NULL DEFAULT 1,
    merged_into uuid,
    version     bigint   NOT NULL
);
CREATE INDEX contact_replicas_account ON contact_replicas (account_id);

CREATE TABLE opportunities (
    id                    uuid PRIMARY KEY,
    name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    account_id            uuid        NOT NULL,
    owner_id              uuid        NOT NULL,
    owner_team_path       text        NOT NULL,
    pipeline_id           uuid        NOT NULL REFERENCES pipelines (id),
    stage_id              uuid        NOT NULL REFERENCES stages (id),
    status                smallint    NOT NULL CHECK (status BETWEEN 1 AND 4),  -- open, won, lost, archived
    probability_override  smallint    CHECK (probability_override BETWEEN 0 AND 100),
    effective_probability smallint    NOT NULL CHECK (effective_probability BETWEEN 0 AND 100),
    currency              text        NOT NULL,
    amount                numeric     NOT NULL CHECK (amount >= 0),
    -- The amount in the corporate currency with the rate used (NULL: no corporate currency or
    -- no rate when it last changed).
    corporate_currency    text,
    corporate_amount      numeric,
    exchange_rate         numeric,
    rate_date             date,
    expected_close_date   date        NOT NULL,
    next_step             text        NOT NULL DEFAULT '',
    source_lead_id        uuid,
    campaign_id           uuid,
    custom_fields         jsonb       NOT NULL DEFAULT '{}',
    line_items            jsonb       NOT NULL DEFAULT '[]',
    team                  jsonb       NOT NULL DEFAULT '[]',
    splits                jsonb       NOT NULL DEFAULT '[]',
    competitors           jsonb       NOT NULL DEFAULT '[]',
    committee             jsonb       NOT NULL DEFAULT '[]',
    -- Won and lost deals: reason, note, competitor, who; closed_at/closed_on for reports.
    outcome               jsonb,
    closed_at             timestamptz,
    closed_on             date,
    -- The open stage a closed deal closed from (a reopen returns there by default).
    closed_from_stage_id  uuid REFERENCES stages (id),
    stage_entered_at      timestamptz NOT NULL,
    version               bigint      NOT NULL,
    created_by            uuid,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX opportunities_owner_open ON opportunities (owner_id, pipeline_id) WHERE status = 1;
CREATE INDEX opportunities_team_open ON opportunities (owner_team_path text_pattern_ops) WHERE status = 1;
CREATE INDEX opportunities_account ON opportunities (account_id);
CREATE INDEX opportunities_created ON opportunities (created_at, id);
CREATE INDEX opportunities_closed ON opportunities (closed_on) WHERE status IN (2, 3);
CREATE INDEX opportunities_stage ON opportunities (stage_id);

-- Every stay of a deal in a stage (O3): entered, exited, by whom. The open stay has no exit.
CREATE TABLE stage_history (
    id              uuid PRIMARY KEY,
    opportunity_id  uuid        NOT NULL REFERENCES opportunities (id),
    pipeline_id     uuid        NOT NULL,
    stage_id        uuid        NOT NULL REFERENCES stages (id),
    owner_id        uuid        NOT NULL,
    owner_team_path text        NOT NULL,
    entered_at      timestamptz NOT NULL,
    entered_by      uuid,
    exited_at       timestamptz,
    exited_by       uuid,
    -- How the stay ended: 1 moved forward, 2 moved back, 3 won, 4 lost, 5 archived, 6 reopened.
    exit_kind       smallint    CHECK (exit_kind BETWEEN 1 AND 6)
);
CREATE INDEX stage_history_deal ON stage_history (opportunity_id, entered_at);
CREATE UNIQUE INDEX stage_history_one_open_stay ON stage_history (opportunity_id) WHERE exited_at IS NULL;

-- The audit trail (O2, O3): one row per version of a deal, with each field's old and new value.
CREATE TABLE opportunity_changes (
    opportunity_id uuid        NOT NULL REFERENCES opportunities (id),
    version        bigint      NOT NULL,
    changed_at     timestamptz NOT NULL,
    changed_by     uuid,
    action         text        NOT NULL,
    fields         jsonb       NOT NULL DEFAULT '[]',
    comment        text        NOT NULL DEFAULT '',
    PRIMARY KEY (opportunity_id, version)
);

-- The funnel's roll-up (O10): per pipeline, stage, owner and month, what flowed. Written in the
-- transaction of each stage change, win, loss, reopen and archive, so a funnel over a million
-- deals adds up thousands of rows rather than millions; `store::analytics::rebuild_roll_up`
-- recomputes it from stage_history and opportunities.
CREATE TABLE funnel_stage_months (
    pipeline_id      uuid    NOT NULL,
    stage_id         uuid    NOT NULL,
    owner_id         uuid    NOT NULL,
    owner_team_path  text    NOT NULL,
    month            date    NOT NULL,  -- the first day of the month (UTC)
    entered          bigint  NOT NULL DEFAULT 0,
    exited           bigint  NOT NULL DEFAULT 0,
    advanced         bigint  NOT NULL DEFAULT 0,
    lost             bigint  NOT NULL DEFAULT 0,
    seconds_in_stage numeric NOT NULL DEFAULT 0,  -- of the stays that exited
    PRIMARY KEY (pipeline_id, owner_id, month, stage_id)
);
CREATE INDEX funnel_stage_months_team ON funnel_stage_months (owner_team_path text_pattern_ops);

CREATE TABLE funnel_outcome_months (
    pipeline_id        uuid    NOT NULL,
    owner_id           uuid    NOT NULL,
    owner_team_path    text    NOT NULL,
    month              date    NOT NULL,
    won                bigint  NOT NULL DEFAULT 0,
    lost               bigint  NOT NULL DEFAULT 0,
    -- Won deals' corporate amounts, and how many had one (a deal without a rate adds nothing).
    won_amount         numeric NOT NULL DEFAULT 0,
    won_with_amount    bigint  NOT NULL DEFAULT 0,
    -- Seconds from creation to win, summed over the won deals.
    cycle_seconds      numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (pipeline_id, owner_id, month)
);
CREATE INDEX funnel_outcome_months_team ON funnel_outcome_months (owner_team_path text_pattern_ops);

-- A default pipeline and close reasons, so the service works before an admin configures it
-- (and a converted lead always has a pipeline to go to). Fixed ids: the demo and tests use them.
INSERT INTO pipelines (id, name, description, product_line, is_default)
VALUES ('01900000-0000-7000-8000-000000000001', 'Direct', 'Direct sales, every product line', '', true);
INSERT INTO stages (id, pipeline_id, name, position, kind, default_probability, forecast_category, exit_criteria) VALUES
    ('01900000-0000-7000-8000-000000000011', '01900000-0000-7000-8000-000000000001', 'Qualify',     1, 1, 10, 1, '{}'),
    ('01900000-0000-7000-8000-000000000012', '01900000-0000-7000-8000-000000000001', 'Develop',     2, 1, 25, 1, '{}'),
    ('01900000-0000-7000-8000-000000000013', '01900000-0000-7000-8000-000000000001', 'Propose',     3, 1, 50, 2, '{}'),
    ('01900000-0000-7000-8000-000000000014', '01900000-0000-7000-8000-000000000001', 'Negotiate',   4, 1, 75, 3, '{}'),
    ('01900000-0000-7000-8000-000000000015', '01900000-0000-7000-8000-000000000001', 'Closed Won',  5, 2, 100, 4, '{}'),
    ('01900000-0000-7000-8000-000000000016', '01900000-0000-7000-8000-000000000001', 'Closed Lost', 6, 3, 0, 5, '{}');
INSERT INTO close_reasons (id, outcome, label) VALUES
    ('01900000-0000-7000-8000-000000000101', 1, 'Product fit'),
    ('01900000-0000-7000-8000-000000000102', 1, 'Price'),
    ('01900000-0000-7000-8000-000000000103', 1, 'Relationship'),
    ('01900000-0000-7000-8000-000000000111', 2, 'Price'),
    ('01900000-0000-7000-8000-000000000112', 2, 'Lost to competitor'),
    ('01900000-0000-7000-8000-000000000113', 2, 'No decision'),
    ('01900000-0000-7000-8000-000000000114', 2, 'No budget');
