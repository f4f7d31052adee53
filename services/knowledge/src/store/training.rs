//! SQL of training (K6): courses (`courses`, `course_lessons`), who has which
//! (`enrollments`), their completed lessons (`lesson_completions`), and the directory's
//! lifecycle stage of each user (`user_stages`), which decides the onboarding track.

use chrono::{DateTime, Utc};
use crm_platform::auth::TeamPath;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::summaries::{ArticleSummary, SUMMARY_COLUMNS, SummaryRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseRecord {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub onboarding: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A course with its lessons' articles in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Course {
    pub record: CourseRecord,
    pub lessons: Vec<ArticleSummary>,
}

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: Uuid,
    title: String,
    description: String,
    onboarding: bool,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

impl From<CourseRow> for CourseRecord {
    fn from(row: CourseRow) -> Self {
        CourseRecord {
            id: row.id,
            title: row.title,
            description: row.description,
            onboarding: row.onboarding,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

pub async fn insert_course(
    connection: &mut PgConnection,
    course: &CourseRecord,
    article_ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO courses (id, title, description, onboarding, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(course.id)
    .bind(&course.title)
    .bind(&course.description)
    .bind(course.onboarding)
    .bind(course.created_by)
    .bind(course.created_at)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO course_lessons (course_id, position, article_id) \
         SELECT $1, position, article_id FROM unnest($2::uuid[]) WITH ORDINALITY AS l(article_id, position)",
    )
    .bind(course.id)
    .bind(article_ids)
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LessonRow {
    course_id: Uuid,
    #[sqlx(flatten)]
    article: SummaryRow,
}

/// The courses (all, or those named), onboarding ones first, then by title; each lesson's
/// article as its published version shows it (else its last).
pub async fn courses(
    connection: &mut PgConnection,
    ids: Option<&[Uuid]>,
) -> sqlx::Result<Vec<Course>> {
    let rows: Vec<CourseRow> = sqlx::query_as(
        "SELECT id, title, description, onboarding, created_by, created_at FROM courses \
         WHERE $1::uuid[] IS NULL OR id = ANY($1) ORDER BY onboarding DESC, title, id",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await?;
    let course_ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let lessons: Vec<LessonRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT l.course_id, {SUMMARY_COLUMNS} FROM course_lessons l \
         JOIN LATERAL (SELECT * FROM article_versions v WHERE v.article_id = l.article_id \
         ORDER BY v.status = 'published' DESC, v.version DESC LIMIT 1) v ON true \
         WHERE l.course_id = ANY($1) ORDER BY l.course_id, l.position"
    )))
    .bind(&course_ids)
    .fetch_all(connection)
    .await?;
    let mut courses: Vec<Course> = rows
        .into_iter()
        .map(|row| Course {
            record: row.into(),
            lessons: Vec::new(),
        })
        .collect();
    for lesson in lessons {
        if let Some(course) = courses
            .iter_mut()
            .find(|course| course.record.id == lesson.course_id)
        {
            course.lessons.push(lesson.article.into_summary()?);
        }
    }
    Ok(courses)
}

/// Who gets a course and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Onboarding,
    Manager(Uuid),
}

/// Enrols the users in the course unless they are; returns how many were new.
pub async fn enroll(
    connection: &mut PgConnection,
    course_id: Uuid,
    user_ids: &[Uuid],
    source: Source,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let (source, by) = match source {
        Source::Onboarding => ("onboarding", None),
        Source::Manager(by) => ("manager", Some(by)),
    };
    Ok(sqlx::query(
        "INSERT INTO enrollments (course_id, user_id, source, assigned_by, assigned_at) \
         SELECT $1, user_id, $3, $4, $5 FROM unnest($2::uuid[]) AS u(user_id) \
         ON CONFLICT DO NOTHING",
    )
    .bind(course_id)
    .bind(user_ids)
    .bind(source)
    .bind(by)
    .bind(at)
    .execute(connection)
    .await?
    .rows_affected())
}

/// The active reps the directory puts in the "new" stage.
pub async fn new_reps<'e>(executor: impl PgExecutor<'e>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT user_id FROM user_stages WHERE stage = 'new' AND rep AND active ORDER BY user_id",
    )
    .fetch_all(executor)
    .await
}

/// The onboarding courses.
pub async fn onboarding_courses<'e>(executor: impl PgExecutor<'e>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM courses WHERE onboarding ORDER BY id")
        .fetch_all(executor)
        .await
}

/// A user's lifecycle stage as the directory last said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserStage<'a> {
    pub user_id: Uuid,
    pub version: i64,
    pub stage: &'a str,
    pub rep: bool,
    pub active: bool,
}

/// Records a user's stage unless a newer version is kept; returns whether it was applied.
pub async fn record_stage(
    connection: &mut PgConnection,
    user: UserStage<'_>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO user_stages (user_id, version, stage, rep, active) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version, stage = EXCLUDED.stage, \
         rep = EXCLUDED.rep, active = EXCLUDED.active WHERE user_stages.version <= EXCLUDED.version",
    )
    .bind(user.user_id)
    .bind(user.version)
    .bind(user.stage)
    .bind(user.rep)
    .bind(user.active)
    .execute(connection)
    .await?
    .rows_affected()
        == 1)
}

/// Marks a lesson completed (again: nothing), then the enrolment completed when every lesson
/// is.
pub async fn complete_lesson(
    connection: &mut PgConnection,
    course_id: Uuid,
    user_id: Uuid,
    article_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lesson_completions (course_id, user_id, article_id, completed_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(course_id)
    .bind(user_id)
    .bind(article_id)
    .bind(at)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "UPDATE enrollments e SET completed_at = $3 WHERE e.course_id = $1 AND e.user_id = $2 \
         AND e.completed_at IS NULL AND NOT EXISTS (SELECT 1 FROM course_lessons l \
         WHERE l.course_id = $1 AND NOT EXISTS (SELECT 1 FROM lesson_completions c \
         WHERE c.course_id = $1 AND c.user_id = $2 AND c.article_id = l.article_id))",
    )
    .bind(course_id)
    .bind(user_id)
    .bind(at)
    .execute(connection)
    .await?;
    Ok(())
}

/// One person's enrolment in one course, with their completions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentRecord {
    pub course_id: Uuid,
    pub user_id: Uuid,
    pub display_name: String,
    pub team_path: String,
    pub source: Source,
    pub assigned_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The course's lessons' articles with when the user completed each.
    pub completions: Vec<(Uuid, Option<DateTime<Utc>>)>,
}

#[derive(sqlx::FromRow)]
struct EnrollmentRow {
    course_id: Uuid,
    user_id: Uuid,
    display_name: Option<String>,
    team_path: Option<String>,
    source: String,
    assigned_by: Option<Uuid>,
    assigned_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    lesson_ids: Vec<Uuid>,
    lesson_completed: Vec<Option<DateTime<Utc>>>,
}

/// Whose enrolments a listing reads.
pub enum Enrolled<'a> {
    User(Uuid),
    /// Everyone in the subtree (`None`: everyone), by the directory's team.
    Within(Option<&'a TeamPath>),
}

/// Enrolments with each lesson's completion, by team, name and course.
pub async fn enrollments<'e>(
    executor: impl PgExecutor<'e>,
    whose: Enrolled<'_>,
    course_id: Option<Uuid>,
) -> sqlx::Result<Vec<EnrollmentRecord>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT e.course_id, e.user_id, u.display_name, u.team_path, e.source, e.assigned_by, \
         e.assigned_at, e.completed_at, \
         array(SELECT l.article_id FROM course_lessons l WHERE l.course_id = e.course_id ORDER BY l.position) AS lesson_ids, \
         array(SELECT c.completed_at FROM course_lessons l LEFT JOIN lesson_completions c \
           ON c.course_id = l.course_id AND c.article_id = l.article_id AND c.user_id = e.user_id \
           WHERE l.course_id = e.course_id ORDER BY l.position) AS lesson_completed \
         FROM enrollments e JOIN courses k ON k.id = e.course_id \
         LEFT JOIN org_users u ON u.user_id = e.user_id WHERE true",
    );
    match whose {
        Enrolled::User(user_id) => {
            query.push(" AND e.user_id = ").push_bind(user_id);
        }
        Enrolled::Within(Some(path)) => {
            query.push(" AND ");
            crm_platform::access::push_within(&mut query, "u.team_path", path);
        }
        Enrolled::Within(None) => {}
    }
    if let Some(course_id) = course_id {
        query.push(" AND e.course_id = ").push_bind(course_id);
    }
    query
        .push(" ORDER BY u.team_path, u.display_name, e.user_id, k.onboarding DESC, k.title, k.id");
    let rows: Vec<EnrollmentRow> = query.build_query_as().fetch_all(executor).await?;
    rows.into_iter()
        .map(|row| {
            let source = match (row.source.as_str(), row.assigned_by) {
                ("onboarding", _) => Source::Onboarding,
                ("manager", Some(by)) => Source::Manager(by),
                _ => {
                    return Err(sqlx::Error::Decode(
                        format!("unknown enrolment source {:?} in the store", row.source).into(),
                    ));
                }
            };
            Ok(EnrollmentRecord {
                course_id: row.course_id,
                user_id: row.user_id,
                display_name: row.display_name.unwrap_or_default(),
                team_path: row.team_path.unwrap_or_default(),
                source,
                assigned_at: row.assigned_at,
                completed_at: row.completed_at,
                completions: row
                    .lesson_ids
                    .into_iter()
                    .zip(row.lesson_completed)
                    .collect(),
            })
        })
        .collect()
}

/// The team the directory (or a token) filed the users under; users it does not know are
/// left out.
pub async fn teams<'e>(
    executor: impl PgExecutor<'e>,
    user_ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT user_id, team_path FROM org_users WHERE user_id = ANY($1)")
        .bind(user_ids)
        .fetch_all(executor)
        .await
}
