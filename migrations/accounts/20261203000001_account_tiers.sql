-- Tiering (domain.md A3): each account's trailing-12-month won revenue and its tier, a
-- manager's override, the key-account flag and plan; the thresholds; and the replica of the
-- opportunities service's deals that the revenue is summed from.

ALTER TABLE accounts
    ADD COLUMN key_account           boolean  NOT NULL DEFAULT false,
    ADD COLUMN account_plan          text     NOT NULL DEFAULT '' CHECK (length(account_plan) <= 20000),
    -- 1 A, 2 B, 3 C (as crm.accounts.v1.AccountTier numbers them); NULL: none.
    ADD COLUMN tier_override         smallint CHECK (tier_override BETWEEN 1 AND 3),
    ADD COLUMN computed_tier         smallint CHECK (computed_tier BETWEEN 1 AND 3),
    -- In the thresholds' currency; NULL while no thresholds are set.
    ADD COLUMN trailing_won_revenue  numeric,
    ADD COLUMN trailing_won_currency text,
    -- What the figures were last computed with: the thresholds' version (0: none) and the first
    -- day of the trailing window (NULL: never computed). The re-evaluation job finds accounts
    -- computed with older thresholds, and wins that have left the window since.
    ADD COLUMN tier_settings_version bigint   NOT NULL DEFAULT 0,
    ADD COLUMN tier_window_start     date,
    ADD CONSTRAINT accounts_trailing_revenue_currency
        CHECK ((trailing_won_revenue IS NULL) = (trailing_won_currency IS NULL));

-- The one row of tier thresholds; absent until an admin sets them.
CREATE TABLE tier_settings (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    currency    text        NOT NULL,
    a_threshold numeric     NOT NULL CHECK (a_threshold >= b_threshold),
    b_threshold numeric     NOT NULL CHECK (b_threshold >= 0),
    version     bigint      NOT NULL,
    updated_by  uuid        NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- The opportunities service's deals as far as tiering needs them, kept from its events at the
-- highest version seen. No foreign key: a deal's events may arrive before its account's
-- (they come from different streams); an account created later counts them from its start.
CREATE TABLE account_deals (
    opportunity_id     uuid PRIMARY KEY,
    account_id         uuid        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('open', 'won', 'lost', 'archived')),
    -- The corporate amount the event carried; NULL when it had none.
    corporate_amount   numeric,
    corporate_currency text,
    closed_on          date,
    version            bigint      NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((corporate_amount IS NULL) = (corporate_currency IS NULL))
);

-- An account's deals (its revenue, a merge's re-pointing), and wins by closing day (the
-- re-evaluation job).
CREATE INDEX account_deals_account ON account_deals (account_id);
CREATE INDEX account_deals_won_by_day ON account_deals (closed_on) WHERE status = 'won';
