-- Activities and tasks (capability O7, docs/adr/0014-deal-desk-in-opportunities.md): calls,
-- meetings, visits, emails and notes regarding a deal, an account, a contact or a lead; tasks
-- with due dates, reminders and completion; stale-deal marks.

CREATE TABLE activities (
    id               uuid PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('call', 'meeting', 'visit', 'email',
                         'note')),
    subject          text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    notes            text        NOT NULL DEFAULT '',
    outcome          text        NOT NULL DEFAULT '',
    -- When it happened or starts; `ends_at` (meetings, visits, calls with a duration) after it.
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz CHECK (ends_at IS NULL OR ends_at >= starts_at),
    -- What it regards: exactly one. A lead and a contact by id only (other services' records).
    opportunity_id   uuid REFERENCES opportunities (id),
    account_id       uuid,
    contact_id       uuid,
    lead_id          uuid,
    CHECK (num_nonnulls(opportunity_id, account_id, contact_id, lead_id) = 1),
    -- Who did it; who reads it follows from them (owner, their managers, admins).
    owner_id         uuid        NOT NULL,
    owner_team_path  text        NOT NULL,
    created_by       uuid        NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_by       uuid        NOT NULL,
    updated_at       timestamptz NOT NULL,
    revision         bigint      NOT NULL DEFAULT 1
);
-- The activity log by owner and time (listings, calendars, later work reports), newest first.
CREATE INDEX activities_of_owner ON activities (owner_id, starts_at DESC, id DESC);
CREATE INDEX activities_team ON activities (owner_team_path text_pattern_ops, starts_at DESC);
CREATE INDEX activities_by_time ON activities (starts_at DESC, id DESC);
CREATE INDEX activities_of_deal ON activities (opportunity_id, starts_at DESC, id DESC)
    WHERE opportunity_id IS NOT NULL;
CREATE INDEX activities_of_account ON activities (account_id, starts_at DESC, id DESC)
    WHERE account_id IS NOT NULL;
CREATE INDEX activities_of_contact ON activities (contact_id, starts_at DESC, id DESC)
    WHERE contact_id IS NOT NULL;
CREATE INDEX activities_of_lead ON activities (lead_id, starts_at DESC, id DESC)
    WHERE lead_id IS NOT NULL;

CREATE TABLE tasks (
    id                uuid PRIMARY KEY,
    title             text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    notes             text        NOT NULL DEFAULT '',
    due_at            timestamptz NOT NULL,
    remind_at         timestamptz CHECK (remind_at IS NULL OR remind_at <= due_at),
    -- Set by the reminders job in the transaction that enqueues task_reminder_due: the claim.
    reminder_sent_at  timestamptz,
    -- At most one thing it regards.
    opportunity_id    uuid REFERENCES opportunities (id),
    account_id        uuid,
    contact_id        uuid,
    lead_id           uuid,
    CHECK (num_nonnulls(opportunity_id, account_id, contact_id, lead_id) <= 1),
    -- The assignee, named as every owned row is so the kit's visibility rule applies.
    owner_id          uuid        NOT NULL,
    owner_team_path   text        NOT NULL,
    completed_at      timestamptz,
    completed_by      uuid,
    created_by        uuid        NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_by        uuid        NOT NULL,
    updated_at        timestamptz NOT NULL,
    revision          bigint      NOT NULL DEFAULT 1
);
CREATE INDEX tasks_of_owner ON tasks (owner_id, due_at, id);
CREATE INDEX tasks_team ON tasks (owner_team_path text_pattern_ops, due_at);
CREATE INDEX tasks_by_due ON tasks (due_at, id);
-- What the reminders job scans: open tasks whose reminder is not yet sent.
CREATE INDEX tasks_reminders_due ON tasks (remind_at)
    WHERE completed_at IS NULL AND reminder_sent_at IS NULL AND remind_at IS NOT NULL;

-- Stale deals: a pipeline's threshold (0 = never stale), a deal's last activity and the mark
-- of the stale episode already announced (cleared when an activity is logged).
ALTER TABLE pipelines
    ADD COLUMN stale_after_days integer NOT NULL DEFAULT 14
        CHECK (stale_after_days BETWEEN 0 AND 365);
ALTER TABLE opportunities
    ADD COLUMN last_activity_at timestamptz,
    ADD COLUMN stale_flagged_at timestamptz;
UPDATE opportunities SET last_activity_at = created_at;
-- Deals inserted without it (bulk loads) start their count at the insert.
ALTER TABLE opportunities ALTER COLUMN last_activity_at SET DEFAULT now(),
    ALTER COLUMN last_activity_at SET NOT NULL;
