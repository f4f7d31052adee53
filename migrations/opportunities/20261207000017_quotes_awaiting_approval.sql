-- The approval queue (ListQuotesAwaitingApproval): the quotes waiting for a discount decision,
-- the longest-waiting first, found without reading every quote. Few wait at any time, so the
-- partial index stays small however many quotes the years bring.
CREATE INDEX quotes_awaiting_approval ON quotes (submitted_at, id)
    WHERE status = 'pending_approval';
