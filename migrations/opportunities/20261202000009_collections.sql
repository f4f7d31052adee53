-- Collections (capability O8, docs/adr/0014-deal-desk-in-opportunities.md): cancelled orders,
-- payment schedules off a won deal (or its order), payments and refunds, reminder marks.

-- An order is cancelled (CancelOrder) when nothing is delivered and nothing paid: it keeps its
-- delivery status (OPEN) and takes no delivery and no schedule after. All three set or none.
ALTER TABLE orders
    ADD COLUMN cancel_reason text,
    ADD COLUMN cancelled_by  uuid,
    ADD COLUMN cancelled_at  timestamptz,
    ADD CONSTRAINT orders_cancellation_whole CHECK (
        (cancel_reason IS NULL) = (cancelled_by IS NULL)
        AND (cancelled_by IS NULL) = (cancelled_at IS NULL));

-- A won deal's payment schedule (one per deal, replaced whole): its instalments
-- [{number, due_date, percent, amount, paid, note}] as jsonb, read and written with it; the
-- total is the deal's amount or its order's total with tax; `overpaid` the credit balance.
CREATE TABLE payment_schedules (
    id                  uuid PRIMARY KEY,
    opportunity_id      uuid        NOT NULL UNIQUE REFERENCES opportunities (id),
    order_id            uuid        REFERENCES orders (id),
    account_id          uuid,
    -- The deal's owner when the schedule was last written (events and receivables carry
    -- them); who reads and writes it is decided by the deal's current owner.
    owner_id            uuid        NOT NULL,
    owner_team_path     text        NOT NULL,
    currency_code       text        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
    instalments         jsonb       NOT NULL CHECK (jsonb_typeof(instalments) = 'array'),
    overpaid            numeric     NOT NULL DEFAULT 0 CHECK (overpaid >= 0),
    created_by          uuid        NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_by          uuid        NOT NULL,
    updated_at          timestamptz NOT NULL,
    revision            bigint      NOT NULL DEFAULT 1
);
CREATE INDEX payment_schedules_of_order ON payment_schedules (order_id);

-- Payments received against a schedule; the id is the client's (a retry finds the row).
-- allocations [{instalment_number, amount}]; refunds [{id, amount, reason, allocations,
-- from_credit, recorded_by, recorded_at}], oldest first.
CREATE TABLE payments (
    id                  uuid PRIMARY KEY,
    schedule_id         uuid        NOT NULL REFERENCES payment_schedules (id),
    amount              numeric     NOT NULL CHECK (amount > 0),
    refunded            numeric     NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    received_on         date        NOT NULL,
    method              text        NOT NULL CHECK (method IN ('bank_transfer', 'card', 'cash',
                            'cheque', 'other')),
    reference           text        NOT NULL,
    allocations         jsonb       NOT NULL CHECK (jsonb_typeof(allocations) = 'array'),
    to_credit           numeric     NOT NULL DEFAULT 0,
    refunds             jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(refunds) = 'array'),
    recorded_by         uuid        NOT NULL,
    recorded_at         timestamptz NOT NULL
);
CREATE INDEX payments_of_schedule ON payments (schedule_id, recorded_at, id);

-- The payment-reminders job's durable marks: each reminder of an instalment goes out once,
-- the mark written in the transaction that enqueues its event (payment_due_soon,
-- payment_overdue).
CREATE TABLE payment_reminders (
    schedule_id         uuid        NOT NULL REFERENCES payment_schedules (id),
    instalment_number   integer     NOT NULL,
    kind                text        NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    sent_at             timestamptz NOT NULL,
    PRIMARY KEY (schedule_id, instalment_number, kind)
);
