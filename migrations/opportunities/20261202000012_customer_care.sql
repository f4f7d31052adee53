-- Customer care (capability A6): reminders to a contact's owner before the contact's important
-- dates (birthday, contract anniversary), kept in the contacts' replica from the accounts
-- service's events, and care templates to write from.

-- The contact's important dates ([{kind, date}], accounts' kind names, "2026-03-14" or, a
-- birthday without its year, "--03-14") and owner, as the accounts service published them.
ALTER TABLE contact_replicas
    ADD COLUMN important_dates jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(important_dates) = 'array'),
    ADD COLUMN owner_id uuid,
    ADD COLUMN owner_team_path text;
-- The reminder job reads only contacts with dates.
CREATE INDEX contact_replicas_with_dates ON contact_replicas (id)
    WHERE important_dates <> '[]' AND status = 1;

-- How many days before each kind of date its reminder is due (one row, admins change it).
CREATE TABLE care_settings (
    singleton                boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    birthday_days_before     integer NOT NULL CHECK (birthday_days_before BETWEEN 0 AND 60),
    anniversary_days_before  integer NOT NULL CHECK (anniversary_days_before BETWEEN 0 AND 60),
    version                  bigint  NOT NULL DEFAULT 1
);
INSERT INTO care_settings (birthday_days_before, anniversary_days_before) VALUES (7, 7);

CREATE TABLE care_templates (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    kind        text        NOT NULL CHECK (kind IN ('birthday', 'contract_anniversary', 'any')),
    channel     text        NOT NULL CHECK (channel IN ('letter', 'message')),
    subject     text        NOT NULL,
    body        text        NOT NULL,
    archived    boolean     NOT NULL DEFAULT false,
    created_by  uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_by  uuid        NOT NULL,
    updated_at  timestamptz NOT NULL,
    revision    bigint      NOT NULL DEFAULT 1
);

-- A reminder per contact, kind and occurrence: the care job's durable mark (its unique key
-- makes a second run's insert a no-op).
CREATE TABLE care_reminders (
    id               uuid PRIMARY KEY,
    contact_id       uuid        NOT NULL,
    contact_name     text        NOT NULL,
    account_id       uuid        NOT NULL,
    account_name     text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('birthday', 'contract_anniversary')),
    -- The important date as kept ("--03-14" or "2019-06-30").
    date             text        NOT NULL,
    -- The day it recurs on this time.
    occurs_on        date        NOT NULL,
    owner_id         uuid        NOT NULL,
    owner_team_path  text        NOT NULL,
    -- The day the owner is reminded (occurs_on less the kind's days before).
    due_on           date        NOT NULL,
    template_id      uuid,
    created_at       timestamptz NOT NULL,
    UNIQUE (contact_id, kind, occurs_on)
);
CREATE INDEX care_reminders_upcoming ON care_reminders (occurs_on, id);
