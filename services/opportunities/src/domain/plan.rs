//! Deal plans (O12): a large deal's milestones and tasks with owners and due dates, and how the
//! plan stands on a day — its progress, its slippage and its status.
//!
//! Progress counts milestones and tasks alike: completed milestones plus done tasks, of all
//! milestones and tasks. A milestone is late from the day after its due date until it is
//! completed (a milestone due today is not late yet); a task likewise is overdue. A plan is
//! SLIPPING with a late milestone, AT_RISK with an overdue task and no late milestone, ON_TRACK
//! otherwise.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A step of the deal the plan leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub due_on: NaiveDate,
    /// 1, 2, … in the plan's order.
    pub position: u32,
    pub completed_on: Option<NaiveDate>,
    pub completed_by: Option<Uuid>,
}

impl Milestone {
    /// Days past due on `as_of` while not completed; 0 when completed or not yet due.
    pub fn days_late(&self, as_of: NaiveDate) -> u32 {
        if self.completed_on.is_some() {
            return 0;
        }
        days_after(self.due_on, as_of)
    }
}

/// A task of the plan, of a milestone or of the plan as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanTask {
    pub id: Uuid,
    pub milestone_id: Option<Uuid>,
    pub title: String,
    pub owner_id: Uuid,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    /// 1, 2, … in the plan's order.
    pub position: u32,
}

impl PlanTask {
    /// Past due on `as_of` and not done.
    pub fn overdue(&self, as_of: NaiveDate) -> bool {
        self.done_on.is_none() && days_after(self.due_on, as_of) > 0
    }
}

fn days_after(due_on: NaiveDate, as_of: NaiveDate) -> u32 {
    u32::try_from((as_of - due_on).num_days()).unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq)]
pub struct DealPlan {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub objective: String,
    /// In position order.
    pub milestones: Vec<Milestone>,
    /// In position order.
    pub tasks: Vec<PlanTask>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

/// Completed items of all items (milestones and tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub completed_items: u32,
    pub items: u32,
    /// Whole percent, rounded down (a plan is 100% only when everything is done); 0 without
    /// items.
    pub percent: u32,
}

/// The late milestones and overdue tasks of a plan on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slippage {
    pub late_milestones: u32,
    pub max_days_late: u32,
    pub overdue_tasks: u32,
}

/// A deal's late milestones on a day, as the priority board reads them
/// (`store::plans::late_milestones`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LateMilestones {
    pub count: u32,
    pub days_late_max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    OnTrack,
    AtRisk,
    Slipping,
}

impl DealPlan {
    pub fn progress(&self) -> Progress {
        let completed = self
            .milestones
            .iter()
            .filter(|milestone| milestone.completed_on.is_some())
            .count()
            + self
                .tasks
                .iter()
                .filter(|task| task.done_on.is_some())
                .count();
        let items = self.milestones.len() + self.tasks.len();
        let percent = (completed * 100).checked_div(items).unwrap_or(0);
        Progress {
            completed_items: count(completed),
            items: count(items),
            percent: count(percent),
        }
    }

    pub fn slippage(&self, as_of: NaiveDate) -> Slippage {
        let late: Vec<u32> = self
            .milestones
            .iter()
            .map(|milestone| milestone.days_late(as_of))
            .filter(|days| *days > 0)
            .collect();
        Slippage {
            late_milestones: count(late.len()),
            max_days_late: late.iter().copied().max().unwrap_or(0),
            overdue_tasks: count(self.tasks.iter().filter(|t| t.overdue(as_of)).count()),
        }
    }

    pub fn status(&self, as_of: NaiveDate) -> PlanStatus {
        status(self.slippage(as_of))
    }

    pub fn milestone_mut(&mut self, id: Uuid) -> Option<&mut Milestone> {
        self.milestones
            .iter_mut()
            .find(|milestone| milestone.id == id)
    }

    pub fn task_mut(&mut self, id: Uuid) -> Option<&mut PlanTask> {
        self.tasks.iter_mut().find(|task| task.id == id)
    }

    /// Puts milestone `id` at 1-based `position` (clamped to the list; 0: last) and numbers
    /// the milestones 1, 2, … again.
    pub fn place_milestone(&mut self, id: Uuid, position: u32) {
        place(
            &mut self.milestones,
            id,
            position,
            |m| m.id,
            |m, p| m.position = p,
        );
    }

    /// Removes milestone `id` and the tasks leading to it; `false` when it has none such.
    pub fn remove_milestone(&mut self, id: Uuid) -> bool {
        let before = self.milestones.len();
        self.milestones.retain(|milestone| milestone.id != id);
        if self.milestones.len() == before {
            return false;
        }
        self.tasks.retain(|task| task.milestone_id != Some(id));
        renumber(&mut self.milestones, |m, p| m.position = p);
        renumber(&mut self.tasks, |t, p| t.position = p);
        true
    }

    /// Removes task `id`; `false` when it has none such.
    pub fn remove_task(&mut self, id: Uuid) -> bool {
        let before = self.tasks.len();
        self.tasks.retain(|task| task.id != id);
        renumber(&mut self.tasks, |t, p| t.position = p);
        self.tasks.len() != before
    }
}

/// SLIPPING with a late milestone, AT_RISK with an overdue task, ON_TRACK otherwise.
pub fn status(slippage: Slippage) -> PlanStatus {
    if slippage.late_milestones > 0 {
        PlanStatus::Slipping
    } else if slippage.overdue_tasks > 0 {
        PlanStatus::AtRisk
    } else {
        PlanStatus::OnTrack
    }
}

fn count(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn place<T>(
    items: &mut Vec<T>,
    id: Uuid,
    position: u32,
    id_of: impl Fn(&T) -> Uuid,
    set: impl Fn(&mut T, u32),
) {
    let Some(from) = items.iter().position(|item| id_of(item) == id) else {
        return;
    };
    let item = items.remove(from);
    let last = items.len();
    let to = match position {
        0 => last,
        position => (position as usize - 1).min(last),
    };
    items.insert(to, item);
    renumber(items, set);
}

fn renumber<T>(items: &mut [T], set: impl Fn(&mut T, u32)) {
    for (index, item) in items.iter_mut().enumerate() {
        set(item, count(index + 1));
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
