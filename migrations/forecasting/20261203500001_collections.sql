-- What was collected on each deal (the period review's collection rate, F7): one row per
-- payment and one per refund (negative), in the corporate currency on the payment's day, as
-- the opportunities service's payment_received and payment_refunded events carry them. Keyed
-- by the payment's or refund's id: an event that comes again writes nothing new, and a
-- payment and its later refund are two rows whatever order they arrive in.
CREATE TABLE deal_collections (
    entry_id uuid PRIMARY KEY,
    deal_id uuid NOT NULL,
    schedule_id uuid NOT NULL,
    -- The day received (a payment) or recorded (a refund).
    entry_on date NOT NULL,
    currency text NOT NULL,
    amount numeric NOT NULL
);

CREATE INDEX deal_collections_by_deal ON deal_collections (deal_id);
