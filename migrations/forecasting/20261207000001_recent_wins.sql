-- The wins feed (ListRecentWins): the latest won deals of the whole organisation, newest
-- first, read as the first rows of this index rather than by sorting every won deal.
CREATE INDEX deals_won_latest ON deals (closed_on DESC, id DESC) WHERE status = 'won';
