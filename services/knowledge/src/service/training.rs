//! Training (K6): courses of published articles, managers' assignments, the onboarding track
//! of new reps, each person's completion, and a manager's view of their team.

use crm_platform::auth::{Caller, Role, TeamPath, Visibility};
use uuid::Uuid;

use super::{Knowledge, Result};
use crate::{
    domain::training::{self, LessonsRefused, Progress},
    error::KnowledgeError,
    store::{
        self,
        training::{Course, CourseRecord, Enrolled, EnrollmentRecord, Source},
    },
};

const COURSE: &str = "course";
const ENROLLMENT: &str = "enrollment";

/// A new course as a manager writes it.
#[derive(Clone, Debug)]
pub struct CourseInput {
    pub title: String,
    pub description: String,
    pub onboarding: bool,
    pub article_ids: Vec<Uuid>,
}

/// An enrolment with its course, for the wire.
#[derive(Clone, Debug)]
pub struct Enrollment {
    pub record: EnrollmentRecord,
    pub course: Course,
}

impl Enrollment {
    pub fn progress(&self) -> Progress {
        let completed = self
            .record
            .completions
            .iter()
            .filter(|(_, at)| at.is_some())
            .count();
        Progress {
            completed: completed as u32,
            total: self.record.completions.len() as u32,
        }
    }
}

fn managers_only(caller: &Caller, what: &str) -> Result<()> {
    if caller.is_at_least_manager() {
        Ok(())
    } else {
        Err(KnowledgeError::permission_denied(format!(
            "only managers and admins {what}"
        )))
    }
}

impl Knowledge {
    /// A course; an onboarding one is given at once to every active new rep.
    pub async fn create_course(
        &self,
        caller: &Caller,
        input: CourseInput,
    ) -> Result<(Course, u64)> {
        managers_only(caller, "create courses")?;
        let article_ids =
            training::lessons(&input.article_ids).map_err(|refused| match refused {
                LessonsRefused::Empty => {
                    KnowledgeError::invalid("course.article_ids", "is required")
                }
                LessonsRefused::TooMany(count) => KnowledgeError::invalid(
                    "course.article_ids",
                    format!("holds {count} lessons: at most {}", training::MAX_LESSONS),
                ),
                LessonsRefused::Repeated { position, .. } => KnowledgeError::invalid(
                    format!("course.article_ids[{}]", position - 1),
                    "names an article the course already has",
                ),
            })?;
        let mut transaction = self.pool.begin().await?;
        for (index, &article_id) in article_ids.iter().enumerate() {
            if store::summaries::published(&mut *transaction, article_id)
                .await?
                .is_none()
            {
                return Err(KnowledgeError::unusable_reference(
                    format!("course.article_ids[{index}]"),
                    "is not a published article",
                ));
            }
        }
        let now = crm_platform::time::now();
        let record = CourseRecord {
            id: Uuid::now_v7(),
            title: input.title,
            description: input.description,
            onboarding: input.onboarding,
            created_by: caller.user_id,
            created_at: now,
        };
        store::training::insert_course(&mut transaction, &record, &article_ids).await?;
        let assigned = if record.onboarding {
            let reps = store::training::new_reps(&mut *transaction).await?;
            store::training::enroll(&mut transaction, record.id, &reps, Source::Onboarding, now)
                .await?
        } else {
            0
        };
        let course = store::training::courses(&mut transaction, Some(&[record.id]))
            .await?
            .pop()
            .ok_or_else(|| KnowledgeError::not_found(COURSE, record.id))?;
        transaction.commit().await?;
        Ok((course, assigned))
    }

    pub async fn courses(&self) -> Result<Vec<Course>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::training::courses(&mut connection, None).await?)
    }

    /// Gives the course to users in the caller's reach; returns how many did not have it.
    pub async fn assign_course(
        &self,
        caller: &Caller,
        course_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<u64> {
        managers_only(caller, "assign courses")?;
        let mut transaction = self.pool.begin().await?;
        if store::training::courses(&mut transaction, Some(&[course_id]))
            .await?
            .is_empty()
        {
            return Err(KnowledgeError::not_found(COURSE, course_id));
        }
        let teams = store::training::teams(&mut *transaction, user_ids).await?;
        for (index, user_id) in user_ids.iter().enumerate() {
            let reached = teams
                .iter()
                .find(|(known, _)| known == user_id)
                .and_then(|(_, team)| TeamPath::parse(team).ok())
                .is_some_and(|team| caller.can_access(*user_id, &team));
            if !reached {
                return Err(KnowledgeError::unusable_reference(
                    format!("user_ids[{index}]"),
                    "is not a user in your reach",
                ));
            }
        }
        let assigned = store::training::enroll(
            &mut transaction,
            course_id,
            user_ids,
            Source::Manager(caller.user_id),
            crm_platform::time::now(),
        )
        .await?;
        transaction.commit().await?;
        Ok(assigned)
    }

    /// Marks one of the course's lessons read by the caller, who has the course.
    pub async fn complete_lesson(
        &self,
        caller: &Caller,
        course_id: Uuid,
        article_id: Uuid,
    ) -> Result<Enrollment> {
        let mut transaction = self.pool.begin().await?;
        let enrolled = self
            .own_enrollment(&mut transaction, caller, course_id)
            .await?;
        if !enrolled
            .record
            .completions
            .iter()
            .any(|(lesson, _)| *lesson == article_id)
        {
            return Err(KnowledgeError::not_found("lesson", article_id));
        }
        store::training::complete_lesson(
            &mut transaction,
            course_id,
            caller.user_id,
            article_id,
            crm_platform::time::now(),
        )
        .await?;
        let enrolled = self
            .own_enrollment(&mut transaction, caller, course_id)
            .await?;
        transaction.commit().await?;
        Ok(enrolled)
    }

    pub async fn my_training(&self, caller: &Caller) -> Result<Vec<Enrollment>> {
        let mut connection = self.pool.acquire().await?;
        self.enrollments(&mut connection, Enrolled::User(caller.user_id), None)
            .await
    }

    /// Everyone's progress in the team (default: the caller's whole reach).
    pub async fn team_progress(
        &self,
        caller: &Caller,
        team: Option<TeamPath>,
    ) -> Result<Vec<Enrollment>> {
        managers_only(caller, "see a team's training")?;
        let within = match (caller.visibility(), team) {
            (Visibility::All, team) => team,
            (Visibility::TeamSubtree(reach), None) => Some(reach),
            (Visibility::TeamSubtree(reach), Some(team)) if team.is_within(&reach) => Some(team),
            (Visibility::TeamSubtree(_), Some(_)) => {
                return Err(KnowledgeError::permission_denied(
                    "the team is outside your reach",
                ));
            }
            (Visibility::Own(_), _) => unreachable_role(caller.role)?,
        };
        let mut connection = self.pool.acquire().await?;
        self.enrollments(&mut connection, Enrolled::Within(within.as_ref()), None)
            .await
    }

    /// The caller's enrollment in the course (NOT_FOUND when they do not have it).
    async fn own_enrollment(
        &self,
        connection: &mut sqlx::PgConnection,
        caller: &Caller,
        course_id: Uuid,
    ) -> Result<Enrollment> {
        self.enrollments(connection, Enrolled::User(caller.user_id), Some(course_id))
            .await?
            .pop()
            .ok_or_else(|| KnowledgeError::not_found(ENROLLMENT, course_id))
    }

    async fn enrollments(
        &self,
        connection: &mut sqlx::PgConnection,
        whose: Enrolled<'_>,
        course_id: Option<Uuid>,
    ) -> Result<Vec<Enrollment>> {
        let records = store::training::enrollments(&mut *connection, whose, course_id).await?;
        let mut ids: Vec<Uuid> = records.iter().map(|record| record.course_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let courses = store::training::courses(connection, Some(&ids)).await?;
        Ok(records
            .into_iter()
            .filter_map(|record| {
                let course = courses
                    .iter()
                    .find(|course| course.record.id == record.course_id)?
                    .clone();
                Some(Enrollment { record, course })
            })
            .collect())
    }
}

/// A rep never reaches here (managers_only refused them first).
fn unreachable_role<T>(role: Role) -> Result<T> {
    Err(KnowledgeError::permission_denied(format!(
        "a {role} does not see a team's training"
    )))
}
