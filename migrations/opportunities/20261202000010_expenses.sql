-- Expenses (capability O11, docs/adr/0014-deal-desk-in-opportunities.md): what a rep spends on a
-- deal or an account (travel, meals, gifts …), submitted by the rep, decided by a manager above
-- them or an admin, summed per deal and per customer as the cost of sale.

CREATE TABLE expenses (
    id                  uuid PRIMARY KEY,
    -- The deal it was spent on; NULL for an expense on the account itself.
    opportunity_id      uuid        REFERENCES opportunities (id),
    -- The customer: the account given, or the deal's account (so per-customer sums need no
    -- join and include the expenses on its deals).
    account_id          uuid        NOT NULL,
    owner_id            uuid        NOT NULL,
    owner_team_path     text        NOT NULL,
    incurred_on         date        NOT NULL,
    category            text        NOT NULL CHECK (category IN ('travel', 'meals',
                            'entertainment', 'lodging', 'gifts', 'samples', 'other')),
    currency_code       text        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
    amount              numeric     NOT NULL CHECK (amount > 0),
    note                text        NOT NULL DEFAULT '',
    receipt_reference   text        NOT NULL DEFAULT '',
    status              text        NOT NULL CHECK (status IN ('draft', 'submitted', 'approved',
                            'rejected')),
    -- The audit of the last submission and the last decision (both set or neither).
    submitted_by        uuid,
    submitted_at        timestamptz,
    decided_by          uuid,
    decided_at          timestamptz,
    decision            text        CHECK (decision IN ('approved', 'rejected')),
    decision_reason     text        NOT NULL DEFAULT '',
    created_by          uuid        NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_by          uuid        NOT NULL,
    updated_at          timestamptz NOT NULL,
    revision            bigint      NOT NULL DEFAULT 1,
    CONSTRAINT expenses_submission_whole CHECK ((submitted_by IS NULL) = (submitted_at IS NULL)),
    CONSTRAINT expenses_decision_whole CHECK (
        (decided_by IS NULL) = (decided_at IS NULL) AND (decided_by IS NULL) = (decision IS NULL))
);
CREATE INDEX expenses_of_deal ON expenses (opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX expenses_of_account ON expenses (account_id);
CREATE INDEX expenses_by_owner ON expenses (owner_id, incurred_on DESC, id);
CREATE INDEX expenses_by_team ON expenses (owner_team_path text_pattern_ops);
