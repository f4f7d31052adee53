-- Articles (K1). An article is its versions: every version is kept (a published version is
-- changed by a newer one, never in place), so any two can be compared. At most one version of
-- an article is open for writing (a draft or in review) and at most one is published.
CREATE TABLE articles (
    id                uuid PRIMARY KEY,
    -- Counts every change; the aggregate version of the article's events.
    revision          bigint      NOT NULL CHECK (revision > 0),
    latest_version    integer     NOT NULL CHECK (latest_version > 0),
    published_version integer CHECK (published_version > 0),
    created_by        uuid        NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE INDEX articles_recent ON articles (updated_at DESC, id DESC);

CREATE TABLE article_versions (
    article_id     uuid        NOT NULL REFERENCES articles (id),
    version        integer     NOT NULL CHECK (version > 0),
    status         text        NOT NULL
        CHECK (status IN ('draft', 'in_review', 'published', 'archived')),
    title          text        NOT NULL,
    summary        text        NOT NULL,
    body           text        NOT NULL,
    kind           text        NOT NULL
        CHECK (kind IN ('playbook', 'battlecard', 'product_sheet', 'objection_handling', 'training')),
    language       text        NOT NULL CHECK (language IN ('en', 'zh', 'both')),
    category       text        NOT NULL,
    tags           text[]      NOT NULL,
    stage_ids      uuid[]      NOT NULL,
    competitor_ids uuid[]      NOT NULL,
    product_codes  text[]      NOT NULL,
    industries     text[]      NOT NULL,
    author_id      uuid        NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    published_at   timestamptz,
    published_by   uuid,
    review_comment text        NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, version),
    CHECK ((published_at IS NULL) = (published_by IS NULL))
);

CREATE UNIQUE INDEX article_versions_one_open ON article_versions (article_id)
    WHERE status IN ('draft', 'in_review');
CREATE UNIQUE INDEX article_versions_one_published ON article_versions (article_id)
    WHERE status = 'published';
-- The managers' review queue.
CREATE INDEX article_versions_in_review ON article_versions (updated_at)
    WHERE status = 'in_review';

-- The review's audit trail: who moved which version, when, and why. Append-only.
CREATE TABLE article_reviews (
    id         uuid PRIMARY KEY,
    article_id uuid        NOT NULL,
    version    integer     NOT NULL,
    action     text        NOT NULL CHECK (action IN ('submit', 'reject', 'publish', 'archive')),
    from_status text       NOT NULL,
    to_status  text        NOT NULL,
    actor_id   uuid        NOT NULL,
    comment    text        NOT NULL,
    at         timestamptz NOT NULL,
    FOREIGN KEY (article_id, version) REFERENCES article_versions (article_id, version)
);

CREATE INDEX article_reviews_by_version ON article_reviews (article_id, version, at);

CREATE FUNCTION article_reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the review trail is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER article_reviews_append_only BEFORE UPDATE OR DELETE ON article_reviews
    FOR EACH ROW EXECUTE FUNCTION article_reviews_append_only();
