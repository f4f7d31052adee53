-- What the knowledge service knows of deals (K3), kept from the opportunities service's events
-- by the deal's version: an older event delivered late never overwrites a newer state.
CREATE TABLE deals (
    id               uuid PRIMARY KEY,
    version          bigint      NOT NULL,
    name             text        NOT NULL,
    account_id       uuid        NOT NULL,
    owner_id         uuid        NOT NULL,
    owner_team_path  text        NOT NULL,
    stage_id         uuid,
    stage_name       text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('open', 'won', 'lost', 'archived')),
    competitor_ids   uuid[]      NOT NULL,
    competitor_names text[]      NOT NULL,
    product_codes    text[]      NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX deals_account ON deals (account_id);
CREATE INDEX deals_owner_team ON deals (owner_team_path text_pattern_ops);

-- Accounts' industries, from the accounts service's events by the account's version.
CREATE TABLE account_industries (
    account_id uuid PRIMARY KEY,
    version    bigint NOT NULL,
    industry   text   NOT NULL
);

-- Articles attached to deals (K4).
CREATE TABLE deal_articles (
    deal_id     uuid        NOT NULL,
    article_id  uuid        NOT NULL REFERENCES articles (id),
    attached_by uuid        NOT NULL,
    attached_at timestamptz NOT NULL,
    PRIMARY KEY (deal_id, article_id)
);

CREATE INDEX deal_articles_article ON deal_articles (article_id);

-- Usage (K5): every read of an article, from a deal's page or not.
CREATE TABLE article_views (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id uuid        NOT NULL REFERENCES articles (id),
    viewer_id  uuid        NOT NULL,
    deal_id    uuid,
    viewed_at  timestamptz NOT NULL
);

CREATE INDEX article_views_article ON article_views (article_id, viewer_id);
CREATE INDEX article_views_deal ON article_views (article_id, deal_id) WHERE deal_id IS NOT NULL;

-- One vote per reader and article; a later vote replaces theirs.
CREATE TABLE article_votes (
    article_id uuid        NOT NULL REFERENCES articles (id),
    voter_id   uuid        NOT NULL,
    helpful    boolean     NOT NULL,
    voted_at   timestamptz NOT NULL,
    PRIMARY KEY (article_id, voter_id)
);

-- Training (K6): courses of ordered articles.
CREATE TABLE courses (
    id          uuid PRIMARY KEY,
    title       text        NOT NULL,
    description text        NOT NULL,
    onboarding  boolean     NOT NULL,
    created_by  uuid        NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE course_lessons (
    course_id  uuid    NOT NULL REFERENCES courses (id),
    position   integer NOT NULL CHECK (position > 0),
    article_id uuid    NOT NULL REFERENCES articles (id),
    PRIMARY KEY (course_id, position),
    UNIQUE (course_id, article_id)
);

-- Who has which course, and why.
CREATE TABLE enrollments (
    course_id    uuid        NOT NULL REFERENCES courses (id),
    user_id      uuid        NOT NULL,
    source       text        NOT NULL CHECK (source IN ('onboarding', 'manager')),
    assigned_by  uuid,
    assigned_at  timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (course_id, user_id)
);

CREATE INDEX enrollments_user ON enrollments (user_id);

CREATE TABLE lesson_completions (
    course_id    uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    article_id   uuid        NOT NULL,
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (course_id, user_id, article_id),
    FOREIGN KEY (course_id, user_id) REFERENCES enrollments (course_id, user_id)
);

-- The directory's lifecycle stage of each user (the kit's org_users keeps no stage), by the
-- user's version: an active rep in the "new" stage gets the onboarding track.
CREATE TABLE user_stages (
    user_id uuid PRIMARY KEY,
    version bigint  NOT NULL,
    stage   text    NOT NULL CHECK (stage IN ('new', 'established', 'senior', 'unspecified')),
    rep     boolean NOT NULL,
    active  boolean NOT NULL
);
