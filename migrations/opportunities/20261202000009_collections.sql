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
