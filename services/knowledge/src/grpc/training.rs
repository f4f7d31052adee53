//! Training's RPCs (`TrainingService`).

use crm_platform::{
    auth::TeamPath,
    error::{Violations, optional_text, required_text},
};
use crm_proto::crm::knowledge::v1::{self as pb, training_service_server::TrainingService};
use tonic::{Request, Response, Status};

use super::{authenticated, required_ids};
use crate::{
    convert::deals::{course_to_wire, enrollment_to_wire},
    error::KnowledgeError,
    service::{Knowledge, training::CourseInput},
};

pub(crate) struct TrainingApi {
    knowledge: Knowledge,
}

impl TrainingApi {
    pub(crate) fn new(knowledge: Knowledge) -> Self {
        Self { knowledge }
    }
}

fn ids(violations: &mut Violations, field: &str, values: &[String]) -> Vec<uuid::Uuid> {
    values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| violations.id(&format!("{field}[{index}]"), value))
        .collect()
}

#[tonic::async_trait]
impl TrainingService for TrainingApi {
    async fn create_course(
        &self,
        request: Request<pb::CreateCourseRequest>,
    ) -> Result<Response<pb::CreateCourseResponse>, Status> {
        let caller = authenticated(&request)?;
        let Some(course) = request.into_inner().course else {
            return Err(KnowledgeError::invalid("course", "is required").into());
        };
        let mut violations = Violations::new();
        let title = required_text(&mut violations, "course.title", &course.title, 200);
        let description = optional_text(
            &mut violations,
            "course.description",
            &course.description,
            2000,
        );
        let article_ids = ids(&mut violations, "course.article_ids", &course.article_ids);
        violations.into_result().map_err(KnowledgeError::from)?;
        let (course, assigned) = self
            .knowledge
            .create_course(
                &caller,
                CourseInput {
                    title,
                    description,
                    onboarding: course.onboarding,
                    article_ids,
                },
            )
            .await?;
        Ok(Response::new(pb::CreateCourseResponse {
            course: Some(course_to_wire(&course)),
            assigned: u32::try_from(assigned).unwrap_or(u32::MAX),
        }))
    }

    async fn list_courses(
        &self,
        request: Request<pb::ListCoursesRequest>,
    ) -> Result<Response<pb::ListCoursesResponse>, Status> {
        authenticated(&request)?;
        let courses = self.knowledge.courses().await?;
        Ok(Response::new(pb::ListCoursesResponse {
            courses: courses.iter().map(course_to_wire).collect(),
        }))
    }

    async fn assign_course(
        &self,
        request: Request<pb::AssignCourseRequest>,
    ) -> Result<Response<pb::AssignCourseResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let course_id = violations.id("course_id", &request.course_id);
        if request.user_ids.is_empty() {
            violations.add("user_ids", "is required");
        }
        if request.user_ids.len() > 500 {
            violations.add("user_ids", "must hold at most 500 items");
        }
        let user_ids = ids(&mut violations, "user_ids", &request.user_ids);
        violations.into_result().map_err(KnowledgeError::from)?;
        let assigned = self
            .knowledge
            .assign_course(&caller, course_id.unwrap_or_default(), &user_ids)
            .await?;
        Ok(Response::new(pb::AssignCourseResponse {
            assigned: u32::try_from(assigned).unwrap_or(u32::MAX),
        }))
    }

    async fn complete_lesson(
        &self,
        request: Request<pb::CompleteLessonRequest>,
    ) -> Result<Response<pb::CompleteLessonResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let [course_id, article_id] = required_ids([
            ("course_id", &request.course_id),
            ("article_id", &request.article_id),
        ])?;
        let enrollment = self
            .knowledge
            .complete_lesson(&caller, course_id, article_id)
            .await?;
        Ok(Response::new(pb::CompleteLessonResponse {
            enrollment: Some(enrollment_to_wire(&enrollment, true)),
        }))
    }

    async fn get_my_training(
        &self,
        request: Request<pb::GetMyTrainingRequest>,
    ) -> Result<Response<pb::GetMyTrainingResponse>, Status> {
        let caller = authenticated(&request)?;
        let enrollments = self.knowledge.my_training(&caller).await?;
        Ok(Response::new(pb::GetMyTrainingResponse {
            enrollments: enrollments
                .iter()
                .map(|enrollment| enrollment_to_wire(enrollment, true))
                .collect(),
        }))
    }

    async fn get_team_progress(
        &self,
        request: Request<pb::GetTeamProgressRequest>,
    ) -> Result<Response<pb::GetTeamProgressResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let team = match request.team_path.trim() {
            "" => None,
            path => Some(
                TeamPath::parse(path)
                    .map_err(|error| KnowledgeError::invalid("team_path", error))?,
            ),
        };
        let enrollments = self.knowledge.team_progress(&caller, team).await?;
        Ok(Response::new(pb::GetTeamProgressResponse {
            enrollments: enrollments
                .iter()
                .map(|enrollment| enrollment_to_wire(enrollment, false))
                .collect(),
        }))
    }
}
