-- Deal plans (capability O12): a large deal's milestones and tasks, each with an owner and a
-- due date; progress and slippage are computed from them (domain::plan).

CREATE TABLE deal_plans (
    id              uuid PRIMARY KEY,
    -- One plan per deal: who reads and writes it is decided by the deal.
    opportunity_id  uuid        NOT NULL UNIQUE REFERENCES opportunities (id),
    objective       text        NOT NULL,
    created_by      uuid        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_by      uuid        NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- The plan's version: every change to it, its milestones or its tasks adds one.
    revision        bigint      NOT NULL DEFAULT 1
);

CREATE TABLE plan_milestones (
    id              uuid PRIMARY KEY,
    plan_id         uuid        NOT NULL REFERENCES deal_plans (id) ON DELETE CASCADE,
    -- The plan's deal, kept here so the board's late-milestone query needs no join.
    opportunity_id  uuid        NOT NULL,
    name            text        NOT NULL,
    owner_id        uuid        NOT NULL,
    due_on          date        NOT NULL,
    position        integer     NOT NULL,
    completed_on    date,
    completed_by    uuid,
    -- The due date milestone_slipped was published for (the scheduled check's durable mark):
    -- a milestone slips once per due date, again only when moved and late again.
    slipped_due_on  date
);
CREATE INDEX plan_milestones_of_plan ON plan_milestones (plan_id, position);
-- Open milestones by deal and due date: the board's late milestones and the slippage check.
CREATE INDEX plan_milestones_open ON plan_milestones (opportunity_id, due_on)
    WHERE completed_on IS NULL;

CREATE TABLE plan_tasks (
    id              uuid PRIMARY KEY,
    plan_id         uuid        NOT NULL REFERENCES deal_plans (id) ON DELETE CASCADE,
    -- The milestone the task leads to, if any; removing the milestone removes its tasks.
    milestone_id    uuid        REFERENCES plan_milestones (id) ON DELETE CASCADE,
    title           text        NOT NULL,
    owner_id        uuid        NOT NULL,
    due_on          date        NOT NULL,
    done_on         date,
    position        integer     NOT NULL
);
CREATE INDEX plan_tasks_of_plan ON plan_tasks (plan_id, position);
