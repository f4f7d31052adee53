-- The credit ledger (C3): append-only entries, each from one event for one rep, in the
-- corporate currency. `source` names what made the entry (the event's own key: the won deal
-- and version, the payment, refund or expense id, the reversal's deal and version), unique per
-- rep, so a redelivered or replayed event adds nothing. Amounts are exact (the rep's split
-- share, never rounded) and positive; `kind` says which way they go.
CREATE TABLE credits (
    id           uuid PRIMARY KEY,
    sequence     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    source       text        NOT NULL,
    user_id      uuid        NOT NULL,
    kind         text        NOT NULL
        CHECK (kind IN ('booking', 'booking_reversal', 'payment', 'refund', 'expense')),
    deal_id      uuid,
    deal_name    text        NOT NULL DEFAULT '',
    pipeline_id  uuid,
    effective_on date        NOT NULL,
    currency     text        NOT NULL,
    amount       numeric     NOT NULL CHECK (amount >= 0),
    share        numeric     NOT NULL CHECK (share > 0 AND share <= 100),
    -- A reversal's booking.
    reverses     uuid REFERENCES credits (id),
    event_id     uuid        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, user_id),
    CHECK ((kind = 'booking_reversal') = (reverses IS NOT NULL))
);

CREATE INDEX credits_by_rep ON credits (user_id, effective_on, sequence);
CREATE INDEX credits_by_deal ON credits (deal_id, user_id) WHERE deal_id IS NOT NULL;
-- A booking is reversed at most once.
CREATE UNIQUE INDEX credits_reversed_once ON credits (reverses) WHERE reverses IS NOT NULL;

-- Append-only: what was credited is corrected by a new entry, never by changing an old one.
CREATE FUNCTION credits_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the credit ledger is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER credits_append_only BEFORE UPDATE OR DELETE ON credits
    FOR EACH ROW EXECUTE FUNCTION credits_append_only();
