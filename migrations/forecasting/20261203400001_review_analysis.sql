-- The sales analysis by product, customer and industry (capability F8).
--
-- A deal's line items as its newest event described them, each with its share of the deal's
-- corporate amount (apportioned by the lines' totals to the cent, so a deal's lines add up to
-- its corporate amount exactly). Replaced with the deal's row, only when that row is written (a
-- newer version). No foreign key to deals: a rebuild of the read model empties both.
CREATE TABLE deal_lines (
    deal_id          uuid     NOT NULL,
    line             smallint NOT NULL,
    -- The price book's code (compared without regard to case there), or an unlisted item's.
    product_code     text     NOT NULL,
    product_name     text     NOT NULL,
    -- NULL when the deal has no corporate amount.
    corporate_amount numeric,
    PRIMARY KEY (deal_id, line)
);

-- The accounts service's accounts, as far as the analysis names and groups them, kept by the
-- account's version from its events (forecasting-accounts).
CREATE TABLE accounts (
    id       uuid   PRIMARY KEY,
    name     text   NOT NULL,
    industry text   NOT NULL,
    version  bigint NOT NULL
);

-- The review's closed deals of a scope and period, by close day.
CREATE INDEX deals_closed_by_owner ON deals (owner_id, closed_on) WHERE status IN ('won', 'lost');
