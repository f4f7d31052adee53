-- The weighted pipeline (capabilities F1, F2): every deal's contribution added up by owner,
-- team, month, status and category, kept as deal events move a deal's contribution (from
-- where its old version counted to where its new one does), so a company roll-up reads these
-- sums instead of every deal. Exact decimals, never rounded per deal: any order of events
-- gives the same digits.
CREATE TABLE pipeline_months (
    owner_team_path text     NOT NULL,
    owner_id        uuid     NOT NULL,
    -- The first day of the month: of the expected close date (open deals), of the day closed.
    month           date     NOT NULL,
    status          text     NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    -- The effective forecast category (crm.opportunities.v1.ForecastCategory).
    category        smallint NOT NULL CHECK (category BETWEEN 1 AND 5),
    -- The corporate currency of the amounts; '' for deals without a corporate amount
    -- (counted, adding no money).
    currency        text     NOT NULL,
    deal_count      bigint   NOT NULL CHECK (deal_count >= 0),
    amount          numeric  NOT NULL,
    weighted        numeric  NOT NULL,
    PRIMARY KEY (owner_team_path, owner_id, month, status, category, currency)
);
-- A rep's or the company's numbers of a period: by owner, or by month alone.
CREATE INDEX pipeline_months_by_owner ON pipeline_months (owner_id, month);
CREATE INDEX pipeline_months_by_month ON pipeline_months (month);

-- A rep's category for an open deal in place of its stage's, holding while the deal stays in
-- the stage it was set at. Forecasting's own record: a rebuild of the read model keeps it.
CREATE TABLE category_overrides (
    deal_id  uuid        PRIMARY KEY,
    stage_id uuid        NOT NULL,
    category smallint    NOT NULL CHECK (category IN (1, 2, 3, 5)),
    note     text        NOT NULL DEFAULT '',
    set_by   uuid        NOT NULL,
    set_at   timestamptz NOT NULL DEFAULT now()
);
