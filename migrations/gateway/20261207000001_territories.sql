-- Sales territories (domain.md G1): a hierarchy (APAC → China → East China) by parent, each
-- optionally covered by a team; reps and managers work a set of them. The code is the value
-- leads and assignment rules carry in their `territory` fields, so it never changes.

CREATE TABLE territories (
    id                  uuid PRIMARY KEY,
    code                text        NOT NULL UNIQUE
                                    CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(code) <= 64),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- No cycles: a move is checked against the parent's ancestors under an advisory lock.
    parent_territory_id uuid REFERENCES territories (id) CHECK (parent_territory_id <> id),
    team_id             uuid REFERENCES teams (id),
    description         text        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    version             bigint      NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX territories_parent ON territories (parent_territory_id);
CREATE INDEX territories_team ON territories (team_id);

CREATE TABLE user_territories (
    user_id      uuid NOT NULL REFERENCES users (id),
    territory_id uuid NOT NULL REFERENCES territories (id),
    PRIMARY KEY (user_id, territory_id)
);
CREATE INDEX user_territories_territory ON user_territories (territory_id);
