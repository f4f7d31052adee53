-- Orders (capability O6, docs/adr/0014-deal-desk-in-opportunities.md): what an accepted quote
-- version becomes, written in AcceptQuote's transaction.

-- "SO-2026-000001": the year of acceptance and this sequence's value. Gaps (a rolled-back
-- acceptance) are harmless.
CREATE SEQUENCE order_numbers;

CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    number              text        NOT NULL UNIQUE CHECK (number ~ '^SO-[0-9]{4}-[0-9]{6,}$'),
    opportunity_id      uuid        NOT NULL REFERENCES opportunities (id),
    account_id          uuid,
    -- The deal's owner when the order was last written (events carry them); who reads and
    -- writes the order is decided by the deal's current owner, as for quotes.
    owner_id            uuid        NOT NULL,
    owner_team_path     text        NOT NULL,
    -- One order per accepted version: a retried acceptance finds it.
    quote_id            uuid        NOT NULL UNIQUE REFERENCES quotes (id),
    quote_number        text        NOT NULL,
    quote_version       integer     NOT NULL,
    currency_code       text        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
    -- [{line_number, product_code, product_name, quantity, delivered, unit_price, net, tax,
    --   total}], decimals as strings; the accepted version's lines and figures, copied.
    lines               jsonb       NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    -- [{delivered_on, lines: [{line_number, quantity}], note, recorded_by, recorded_at}],
    -- oldest first. Read and written whole with the order.
    deliveries          jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(deliveries) = 'array'),
    -- The accepted version's figures, kept for listings and reports.
    amount_before_tax   numeric     NOT NULL,
    tax                 numeric     NOT NULL,
    total               numeric     NOT NULL,
    -- Derived from the lines (domain::order::delivery_status), kept to filter on.
    delivery_status     text        NOT NULL CHECK (delivery_status IN ('open',
                            'partly_delivered', 'delivered')),
    created_by          uuid        NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_by          uuid        NOT NULL,
    updated_at          timestamptz NOT NULL,
    revision            bigint      NOT NULL DEFAULT 1
);
-- A deal's and an account's orders, newest first; the listing's keyset.
CREATE INDEX orders_of_deal ON orders (opportunity_id, created_at DESC, id DESC);
CREATE INDEX orders_of_account ON orders (account_id, created_at DESC, id DESC);
CREATE INDEX orders_by_time ON orders (created_at DESC, id DESC);
