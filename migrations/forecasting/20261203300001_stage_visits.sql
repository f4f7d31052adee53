-- Which stages each deal reached (capability F6): the stage-to-win rates are learned from the
-- closed deals that reached a stage. Written from every deal event, applied or not — a visit is
-- a fact even when its event arrives after a newer one — keeping the earliest version the
-- deal was seen in the stage.
CREATE TABLE deal_stage_visits (
    deal_id            uuid   NOT NULL,
    stage_id           uuid   NOT NULL,
    first_seen_version bigint NOT NULL,
    PRIMARY KEY (deal_id, stage_id)
);

-- The pipelines' stages as the deal event of the latest change described them (events of
-- different deals arrive in any order: the deal's change time decides): their name, order,
-- kind and default (nominal) probability, shown beside the learned rates. A deal event carries
-- its stage's summary; a stage no deal was ever in is not known here.
CREATE TABLE pipeline_stages (
    stage_id            uuid     PRIMARY KEY,
    pipeline_id         uuid     NOT NULL,
    name                text     NOT NULL,
    position            integer  NOT NULL,
    -- crm.opportunities.v1.StageKind: 1 open, 2 won, 3 lost.
    kind                smallint NOT NULL CHECK (kind BETWEEN 1 AND 3),
    default_probability smallint NOT NULL CHECK (default_probability BETWEEN 0 AND 100),
    described_at        timestamptz NOT NULL
);
CREATE INDEX pipeline_stages_by_pipeline ON pipeline_stages (pipeline_id, position);
