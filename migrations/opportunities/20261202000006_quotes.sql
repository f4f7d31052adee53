-- Quotes with discount approval (capability O6, docs/adr/0014-deal-desk-in-opportunities.md).

-- The numbers of quotes, one per quote whatever its versions: "Q-2026-000123" is the year the
-- quote was first written and this sequence's value. Gaps (a rolled-back create) are harmless.
CREATE SEQUENCE quote_numbers;

-- One row per version of a quote. A quote is its number; its versions are 1, 2, … and each has
-- its own id (what the API and events name) and its own `revision` (the row's version, checked
-- by expected_version and carried as the events' aggregate version). An issued version never
-- changes but by the customer's answer; a revision is a new row.
CREATE TABLE quotes (
    id                  uuid PRIMARY KEY,
    opportunity_id      uuid        NOT NULL REFERENCES opportunities (id),
    number              text        NOT NULL CHECK (number ~ '^Q-[0-9]{4}-[0-9]{6,}$'),
    quote_version       integer     NOT NULL CHECK (quote_version >= 1),
    revised_from        uuid        REFERENCES quotes (id),
    status              text        NOT NULL CHECK (status IN ('draft', 'pending_approval',
                            'approved', 'rejected', 'issued', 'accepted', 'declined',
                            'superseded')),
    currency_code       text        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
    price_list_id       uuid        REFERENCES price_lists (id),
    -- The day list prices were read: the lines keep the prices of that day.
    pricing_date        date        NOT NULL,
    discount_percent    numeric     NOT NULL CHECK (discount_percent BETWEEN 0 AND 100),
    tax_percent         numeric     NOT NULL CHECK (tax_percent BETWEEN 0 AND 100),
    -- [{product_code, product_name, quantity, list_price, unit_price, discount_percent,
    --   tax_percent}], decimals as strings; list_price null for an unlisted item, tax_percent
    -- null for the quote's rate. Read and written whole with the version.
    lines               jsonb       NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    -- The figures (domain::quote::figures of the lines), kept so listings and reports read
    -- them without recomputing, and so an issued version's figures are what the customer read.
    list_total          numeric     NOT NULL,
    subtotal            numeric     NOT NULL,
    quote_discount      numeric     NOT NULL,
    amount_before_tax   numeric     NOT NULL,
    tax                 numeric     NOT NULL,
    total               numeric     NOT NULL,
    off_list_percent    numeric     NOT NULL,
    valid_until         date        NOT NULL,
    notes               text        NOT NULL DEFAULT '',
    -- The submission and the discount's audit: who decided, when, and their note or reason.
    submitted_by        uuid,
    submitted_at        timestamptz,
    threshold_percent   numeric,
    approval_required   boolean     NOT NULL DEFAULT false,
    decision            text        CHECK (decision IN ('approved', 'rejected')),
    decided_by          uuid,
    decided_at          timestamptz,
    decision_note       text        NOT NULL DEFAULT '',
    -- Why the customer declined, if they said.
    decline_reason      text        NOT NULL DEFAULT '',
    -- The deal's owner when the version was last written (events carry them).
    owner_id            uuid        NOT NULL,
    owner_team_path     text        NOT NULL,
    account_id          uuid,
    created_by          uuid        NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_by          uuid        NOT NULL,
    updated_at          timestamptz NOT NULL,
    revision            bigint      NOT NULL DEFAULT 1,
    UNIQUE (number, quote_version),
    CHECK (decision IS NULL OR (decided_by IS NOT NULL AND decided_at IS NOT NULL))
);
-- A deal's quotes, newest first.
CREATE INDEX quotes_of_deal ON quotes (opportunity_id, created_at DESC, id DESC);
-- A deal may accept a later quote after an earlier one (the customer changed the order): the
-- deal takes the latest accepted quote's amount and lines, the earlier stays accepted as the
-- record of what was agreed then. Two acceptances of one deal queue on the deal's row lock.

-- The quote settings: one row.
CREATE TABLE quote_settings (
    singleton                           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    discount_approval_threshold_percent numeric     NOT NULL
        CHECK (discount_approval_threshold_percent BETWEEN 0 AND 100),
    default_tax_percent                 numeric     NOT NULL
        CHECK (default_tax_percent BETWEEN 0 AND 100),
    -- The seller's name at the head of a rendered quote; empty: none shown.
    company_name                        text        NOT NULL DEFAULT '',
    version                             bigint      NOT NULL DEFAULT 1,
    updated_at                          timestamptz NOT NULL DEFAULT now(),
    updated_by                          uuid
);
-- 15%: discounts above need a manager; 13%: China's standard VAT rate.
INSERT INTO quote_settings (discount_approval_threshold_percent, default_tax_percent)
VALUES (15, 13);
