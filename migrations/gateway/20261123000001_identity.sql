-- The organisation and authentication (domain.md G1, G2), owned by the gateway.

CREATE TABLE teams (
    id             uuid PRIMARY KEY,
    slug           text        NOT NULL CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    parent_team_id uuid REFERENCES teams (id),
    path           text        NOT NULL UNIQUE,   -- "/northwind/east/"
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX teams_path ON teams (path text_pattern_ops);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text        NOT NULL UNIQUE,  -- normalised
    display_name   text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role           text        NOT NULL CHECK (role IN ('admin', 'manager', 'rep')),
    team_id        uuid        NOT NULL REFERENCES teams (id),
    password_hash  text        NOT NULL,         -- argon2id, PHC string
    stage          text        NOT NULL,         -- effective lifecycle stage
    stage_override text,
    started_on     date        NOT NULL,
    active         boolean     NOT NULL DEFAULT true,
    version        bigint      NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_team ON users (team_id);

-- Refresh tokens are stored hashed and rotated; a family ends on logout or on reuse of a
-- rotated token (which means it was stolen).
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES users (id),
    token_hash  text        NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    owner_user_id uuid        NOT NULL REFERENCES users (id),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix        text        NOT NULL,
    key_hash      text        NOT NULL UNIQUE,
    scopes        text[]      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_keys_owner ON api_keys (owner_user_id);
