-- Plans (C1): a plan and its versions. A version is stored as the API's `PlanVersion` message
-- (protobuf), checked by the domain before it is written, its effective days beside it: the
-- plan's rules have one form on the wire and at rest, and one mapping to the domain.
CREATE TABLE plans (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    currency    text        NOT NULL,
    revision    bigint      NOT NULL CHECK (revision > 0),
    updated_by  uuid,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_versions (
    plan_id         uuid    NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version         integer NOT NULL CHECK (version > 0),
    effective_from  date    NOT NULL,
    effective_until date,
    body            bytea   NOT NULL,
    PRIMARY KEY (plan_id, version),
    CHECK (effective_until IS NULL OR effective_until > effective_from)
);

-- Assignments (C2): a rep is on one plan at a time. The exclusion constraint refuses two
-- overlapping ranges of one rep even between concurrent writers; the service names the one it
-- overlaps first.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE assignments (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL,
    plan_id     uuid        NOT NULL REFERENCES plans (id),
    from_day    date        NOT NULL,
    until_day   date,
    assigned_by uuid,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    CHECK (until_day IS NULL OR until_day > from_day),
    EXCLUDE USING gist (user_id WITH =, daterange(from_day, until_day) WITH &&)
);

CREATE INDEX assignments_by_plan ON assignments (plan_id);

-- The reps' revenue quotas, replicated from the forecasting service's quota_set events by
-- the quota's version (an older or repeated event changes nothing).
CREATE TABLE quotas (
    quota_id     uuid PRIMARY KEY,
    user_id      uuid    NOT NULL,
    period_label text    NOT NULL,
    currency     text    NOT NULL,
    amount       numeric NOT NULL,
    version      bigint  NOT NULL
);

CREATE UNIQUE INDEX quotas_by_rep ON quotas (user_id, period_label);

-- A deal's line items on its bookings, for SPIFFs on products: each line's share of the deal's
-- corporate amount (the whole deal's, not the rep's split).
CREATE TABLE booking_lines (
    credit_id    uuid    NOT NULL REFERENCES credits (id),
    position     integer NOT NULL,
    product_code text    NOT NULL,
    amount       numeric NOT NULL,
    PRIMARY KEY (credit_id, position)
);

-- Closed periods (C4): closing locks every statement of the period. Periods of one kind close
-- in order.
CREATE TABLE closed_periods (
    label           text PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('month', 'quarter', 'year')),
    starts_on       date        NOT NULL,
    ends_on         date        NOT NULL,
    statement_count integer     NOT NULL,
    total           numeric     NOT NULL,
    currency        text,
    closed_by       uuid,
    closed_at       timestamptz NOT NULL DEFAULT now()
);

-- A closed statement, as locked: the API's `Statement` message, lines and all, with the
-- figures later statements start from.
CREATE TABLE statements (
    user_id      uuid    NOT NULL,
    period_label text    NOT NULL REFERENCES closed_periods (label),
    ends_on      date    NOT NULL,
    total        numeric NOT NULL,
    draw_balance numeric NOT NULL,
    body         bytea   NOT NULL,
    PRIMARY KEY (user_id, period_label)
);

-- The ledger entries a closed statement took in: each at most once. An entry of a closed
-- period's days recorded after the close is in none, and goes to the rep's next open period.
CREATE TABLE statement_credits (
    credit_id    uuid PRIMARY KEY REFERENCES credits (id),
    user_id      uuid NOT NULL,
    period_label text NOT NULL
);

-- What a closed statement changed of each deal it touched: later statements claw back what
-- was paid and release what was earned from these, added up over the closed periods.
CREATE TABLE statement_deals (
    user_id          uuid    NOT NULL,
    period_label     text    NOT NULL,
    ends_on          date    NOT NULL,
    deal_id          uuid    NOT NULL,
    deal_name        text    NOT NULL,
    paid             numeric NOT NULL,
    collected        numeric NOT NULL,
    released         numeric NOT NULL,
    -- The standing booking and the commission earned on it after the period.
    booked           numeric NOT NULL,
    earned           numeric NOT NULL,
    PRIMARY KEY (user_id, deal_id, period_label)
);

-- Manual adjustments (C4), audited: who, when, how much and why; each in a statement of an
-- open period, locked with it.
CREATE TABLE adjustments (
    id           uuid PRIMARY KEY,
    user_id      uuid        NOT NULL,
    period_label text        NOT NULL,
    currency     text        NOT NULL,
    amount       numeric     NOT NULL,
    note         text        NOT NULL,
    adjusted_by  uuid        NOT NULL,
    adjusted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX adjustments_by_rep ON adjustments (user_id, period_label);

-- What was closed stays closed: statements, what they took in, what they changed, and the
-- adjustments are never changed or removed.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER statements_locked BEFORE UPDATE OR DELETE ON statements
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER statement_credits_locked BEFORE UPDATE OR DELETE ON statement_credits
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER statement_deals_locked BEFORE UPDATE OR DELETE ON statement_deals
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER adjustments_locked BEFORE UPDATE OR DELETE ON adjustments
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER closed_periods_locked BEFORE UPDATE OR DELETE ON closed_periods
    FOR EACH ROW EXECUTE FUNCTION append_only();
