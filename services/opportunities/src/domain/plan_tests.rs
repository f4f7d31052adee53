use chrono::{NaiveDate, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn milestone(due: &str, completed: Option<&str>) -> Milestone {
    Milestone {
        id: Uuid::now_v7(),
        name: "technical win".into(),
        owner_id: Uuid::nil(),
        due_on: date(due),
        position: 0,
        completed_on: completed.map(date),
        completed_by: None,
    }
}

fn task(due: &str, done: Option<&str>) -> PlanTask {
    PlanTask {
        id: Uuid::now_v7(),
        milestone_id: None,
        title: "send the references".into(),
        owner_id: Uuid::nil(),
        due_on: date(due),
        done_on: done.map(date),
        position: 0,
    }
}

fn plan_of(milestones: Vec<Milestone>, tasks: Vec<PlanTask>) -> DealPlan {
    DealPlan {
        id: Uuid::now_v7(),
        opportunity_id: Uuid::now_v7(),
        objective: "signed before year end".into(),
        milestones,
        tasks,
        created_by: Uuid::nil(),
        created_at: Utc::now(),
        updated_by: Uuid::nil(),
        updated_at: Utc::now(),
        revision: 1,
    }
}

#[test]
fn progress_counts_milestones_and_tasks_alike_rounded_down() {
    // 1 of 3 milestones and 1 of 3 tasks: 2 of 6, 33%.
    let plan = plan_of(
        vec![
            milestone("2026-12-01", Some("2026-11-30")),
            milestone("2026-12-10", None),
            milestone("2026-12-20", None),
        ],
        vec![
            task("2026-11-20", Some("2026-11-20")),
            task("2026-12-05", None),
            task("2026-12-15", None),
        ],
    );
    let progress = plan.progress();
    assert_eq!((progress.completed_items, progress.items), (2, 6));
    assert_eq!(progress.percent, 33);
    assert_eq!(plan_of(vec![], vec![]).progress().percent, 0);
}

#[test]
fn a_milestone_is_late_from_the_day_after_its_due_date_until_completed() {
    let open = milestone("2026-12-10", None);
    assert_eq!(open.days_late(date("2026-12-09")), 0);
    assert_eq!(open.days_late(date("2026-12-10")), 0);
    assert_eq!(open.days_late(date("2026-12-11")), 1);
    assert_eq!(open.days_late(date("2027-01-09")), 30);
    let done = milestone("2026-12-10", Some("2026-12-20"));
    assert_eq!(done.days_late(date("2027-01-09")), 0);
}

#[test]
fn the_status_is_slipping_with_a_late_milestone_and_at_risk_with_an_overdue_task() {
    let plan = plan_of(
        vec![milestone("2026-12-10", None), milestone("2026-12-01", None)],
        vec![task("2026-12-05", None)],
    );
    assert_eq!(plan.status(date("2026-12-01")), PlanStatus::OnTrack);
    assert_eq!(plan.status(date("2026-12-06")), PlanStatus::Slipping);
    let slippage = plan.slippage(date("2026-12-12"));
    assert_eq!(
        slippage,
        Slippage {
            late_milestones: 2,
            max_days_late: 11,
            overdue_tasks: 1
        }
    );
    let only_task = plan_of(vec![], vec![task("2026-12-05", None)]);
    assert_eq!(only_task.status(date("2026-12-06")), PlanStatus::AtRisk);
}

#[test]
fn placing_and_removing_renumbers_and_removes_a_milestones_tasks() {
    let mut plan = plan_of(
        vec![
            milestone("2026-12-01", None),
            milestone("2026-12-02", None),
            milestone("2026-12-03", None),
        ],
        vec![task("2026-12-01", None), task("2026-12-02", None)],
    );
    let ids: Vec<Uuid> = plan.milestones.iter().map(|m| m.id).collect();
    plan.place_milestone(ids[2], 1);
    let order: Vec<(Uuid, u32)> = plan.milestones.iter().map(|m| (m.id, m.position)).collect();
    assert_eq!(order, [(ids[2], 1), (ids[0], 2), (ids[1], 3)]);
    plan.place_milestone(ids[2], 0);
    assert_eq!(plan.milestones[2].id, ids[2]);
    plan.tasks[0].milestone_id = Some(ids[0]);
    assert!(plan.remove_milestone(ids[0]));
    assert!(!plan.remove_milestone(ids[0]));
    assert_eq!(plan.milestones.len(), 2);
    assert_eq!(plan.tasks.len(), 1);
    assert_eq!(plan.tasks[0].position, 1);
}

proptest! {
    /// Progress never exceeds its items, is 100% only when everything is done, and slippage
    /// only grows as the day moves on.
    #[test]
    fn progress_and_slippage_stay_consistent(
        milestones in proptest::collection::vec((0u32..60, proptest::option::of(0u32..60)), 0..8),
        tasks in proptest::collection::vec((0u32..60, proptest::option::of(0u32..60)), 0..8),
        day in 0u32..90,
    ) {
        let base = date("2026-11-01");
        let at = |days: u32| base + chrono::Days::new(u64::from(days));
        let plan = plan_of(
            milestones.iter().map(|(due, done)| {
                let mut m = milestone("2026-11-01", None);
                m.due_on = at(*due);
                m.completed_on = done.map(at);
                m
            }).collect(),
            tasks.iter().map(|(due, done)| {
                let mut t = task("2026-11-01", None);
                t.due_on = at(*due);
                t.done_on = done.map(at);
                t
            }).collect(),
        );
        let progress = plan.progress();
        prop_assert!(progress.completed_items <= progress.items);
        prop_assert_eq!(progress.percent == 100, progress.items > 0 && progress.completed_items == progress.items);
        let today = plan.slippage(at(day));
        let later = plan.slippage(at(day + 1));
        prop_assert!(later.late_milestones >= today.late_milestones);
        prop_assert!(later.max_days_late >= today.max_days_late);
        let open = plan.milestones.iter().filter(|m| m.completed_on.is_none()).count();
        prop_assert!(today.late_milestones as usize <= open);
    }
}
