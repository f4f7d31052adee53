-- The campaign funnel's deals (domain.md L7): the opportunities service's deals as leads needs
-- them to attribute won revenue back to campaigns, kept from its events (consumer
-- `leads-campaign-deals`). Each event carries the deal's full state and version; a row is
-- replaced only by a newer version, so redelivery, replay and out-of-order delivery change
-- nothing. An archived deal keeps its row (status 'archived'), so an older event delivered
-- after the archive cannot bring it back.
--
-- No foreign keys: the ids are the producer's, and a replica mirrors what it was told.
CREATE TABLE campaign_deals (
    opportunity_id     uuid PRIMARY KEY,
    campaign_id        uuid,
    source_lead_id     uuid,
    status             text          NOT NULL CHECK (status IN ('open', 'won', 'lost', 'archived')),
    -- The deal's amount in the corporate currency (absent while the organisation had no
    -- corporate currency or no rate for the deal's).
    corporate_amount   numeric(20,4),
    corporate_currency char(3),
    -- The deal's amount in its own currency.
    amount             numeric(20,4),
    currency           char(3),
    closed_on          date,
    version            bigint        NOT NULL,
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    CHECK ((corporate_amount IS NULL) = (corporate_currency IS NULL)),
    CHECK ((amount IS NULL) = (currency IS NULL))
);
CREATE INDEX campaign_deals_campaign ON campaign_deals (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX campaign_deals_source_lead ON campaign_deals (source_lead_id) WHERE source_lead_id IS NOT NULL;

-- Won figures were planned on the lead itself and never written: they come from the deals now.
ALTER TABLE leads DROP COLUMN won_at, DROP COLUMN won_amount;
