//! Training (K6) over gRPC on real PostgreSQL and NATS: courses of published articles, the
//! onboarding track given to new reps from the directory's events, lesson completion, managers'
//! assignments and their team's progress.

mod support;

use crm_proto::crm::{
    common::v1::LifecycleStage,
    gateway::v1::Role,
    knowledge::v1::{self as pb, training_service_client::TrainingServiceClient},
};
use crm_test_support::{TestApp, authorized};
use support::{deals::*, *};
use tonic::{Code, transport::Channel};

const LIN: &str = "01900000-0000-7000-8000-0000000000b3";

struct As {
    client: TrainingServiceClient<Channel>,
    token: String,
}

impl As {
    async fn new(app: &TestApp, who: &str) -> Self {
        Self {
            client: TrainingServiceClient::new(app.channel().await),
            token: app.token(&caller(who)),
        }
    }

    async fn create(
        &self,
        title: &str,
        onboarding: bool,
        article_ids: &[&str],
    ) -> Result<pb::CreateCourseResponse, tonic::Status> {
        let request = pb::CreateCourseRequest {
            course: Some(pb::CourseInput {
                title: title.into(),
                description: String::new(),
                onboarding,
                article_ids: article_ids.iter().map(|id| (*id).to_owned()).collect(),
            }),
        };
        Ok(self
            .client
            .clone()
            .create_course(authorized(request, &self.token))
            .await?
            .into_inner())
    }

    async fn assign(&self, course_id: &str, users: &[&str]) -> Result<u32, tonic::Status> {
        let request = pb::AssignCourseRequest {
            course_id: course_id.into(),
            user_ids: users.iter().map(|id| (*id).to_owned()).collect(),
        };
        Ok(self
            .client
            .clone()
            .assign_course(authorized(request, &self.token))
            .await?
            .into_inner()
            .assigned)
    }

    async fn complete(
        &self,
        course_id: &str,
        article_id: &str,
    ) -> Result<pb::Enrollment, tonic::Status> {
        let request = pb::CompleteLessonRequest {
            course_id: course_id.into(),
            article_id: article_id.into(),
        };
        Ok(self
            .client
            .clone()
            .complete_lesson(authorized(request, &self.token))
            .await?
            .into_inner()
            .enrollment
            .unwrap())
    }

    async fn mine(&self) -> Vec<pb::Enrollment> {
        self.client
            .clone()
            .get_my_training(authorized(pb::GetMyTrainingRequest {}, &self.token))
            .await
            .unwrap()
            .into_inner()
            .enrollments
    }

    async fn team(&self, team_path: &str) -> Result<Vec<pb::Enrollment>, tonic::Status> {
        let request = pb::GetTeamProgressRequest {
            team_path: team_path.into(),
        };
        Ok(self
            .client
            .clone()
            .get_team_progress(authorized(request, &self.token))
            .await?
            .into_inner()
            .enrollments)
    }
}

fn lesson(title: &str) -> pb::ArticleContent {
    pb::ArticleContent {
        title: title.into(),
        body: format!("# {title}\n\nRead this first."),
        kind: pb::ArticleKind::Training as i32,
        language: pb::Language::Both as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn new_reps_get_the_onboarding_track_and_managers_see_their_team_s_progress() {
    let app = start_with_producers().await;
    let team = "/northwind/east/east-1/";
    announce_user(
        &app,
        user(RAVI, "Ravi", Role::Rep, team, LifecycleStage::New, 1),
        true,
    )
    .await;
    announce_user(
        &app,
        user(
            NORA,
            "Nora",
            Role::Rep,
            team,
            LifecycleStage::Established,
            1,
        ),
        true,
    )
    .await;
    // A new manager is not a rep: no onboarding track.
    announce_user(
        &app,
        user(
            MEI,
            "Mei",
            Role::Manager,
            "/northwind/east/",
            LifecycleStage::New,
            1,
        ),
        true,
    )
    .await;
    app.handled("knowledge", 3).await;

    let pipeline = published(&app, lesson("Our pipeline")).await;
    let products = published(&app, lesson("Our products")).await;
    let mei = As::new(&app, MEI).await;
    let ravi = As::new(&app, RAVI).await;
    let nora = As::new(&app, NORA).await;

    // Courses are the managers' to make, of published articles, each once.
    let refused = ravi.create("Mine", false, &[&pipeline]).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let unpublished = draft(&app, lesson("Not yet")).await;
    let refused = mei
        .create("Onboarding", true, &[&pipeline, &unpublished])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let refused = mei
        .create("Onboarding", true, &[&pipeline, &pipeline])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");

    // The onboarding course goes at once to the one new rep.
    let created = mei
        .create("Onboarding", true, &[&pipeline, &products])
        .await
        .unwrap();
    assert_eq!(created.assigned, 1);
    let onboarding = created.course.unwrap();
    let titles: Vec<String> = onboarding
        .lessons
        .iter()
        .map(|lesson| lesson.article.as_ref().unwrap().title.clone())
        .collect();
    assert_eq!(titles, ["Our pipeline", "Our products"]);
    assert!(nora.mine().await.is_empty());

    // A rep who joins (or becomes) new gets it from the directory's event.
    announce_user(
        &app,
        user(LIN, "Lin", Role::Rep, team, LifecycleStage::New, 1),
        true,
    )
    .await;
    app.handled("knowledge", 4).await;

    let mine = ravi.mine().await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].source, pb::AssignmentSource::Onboarding as i32);
    assert_eq!(
        (
            mine[0].completed_lessons,
            mine[0].total_lessons,
            mine[0].percent
        ),
        (0, 2, 0)
    );
    let course_id = &onboarding.course_id;
    let half = ravi.complete(course_id, &pipeline).await.unwrap();
    assert_eq!((half.completed_lessons, half.percent), (1, 50));
    assert!(half.completed_at.is_none());
    // Again: nothing more.
    assert_eq!(
        ravi.complete(course_id, &pipeline)
            .await
            .unwrap()
            .completed_lessons,
        1
    );
    let done = ravi.complete(course_id, &products).await.unwrap();
    assert_eq!((done.completed_lessons, done.percent), (2, 100));
    assert!(done.completed_at.is_some());
    assert!(
        done.lessons
            .iter()
            .all(|lesson| lesson.completed_at.is_some())
    );
    // Not a lesson of the course; not a course the rep has.
    let other = ravi.complete(course_id, &unpublished).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let not_hers = nora.complete(course_id, &pipeline).await.unwrap_err();
    assert_eq!(not_hers.code(), Code::NotFound);

    // A manager assigns a course to people in reach, once.
    let refresher = mei
        .create("Products refresher", false, &[&products])
        .await
        .unwrap();
    assert_eq!(refresher.assigned, 0);
    let refresher_id = refresher.course.unwrap().course_id;
    assert_eq!(mei.assign(&refresher_id, &[NORA]).await.unwrap(), 1);
    assert_eq!(mei.assign(&refresher_id, &[NORA]).await.unwrap(), 0);
    let outside = mei.assign(&refresher_id, &[ADA]).await.unwrap_err();
    assert_eq!(outside.code(), Code::FailedPrecondition, "{outside:?}");

    // The team's progress, by name: Lin 0 %, Nora 0 % (assigned by Mei), Ravi 100 %.
    let progress: Vec<(String, String, u32)> = mei
        .team("")
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.display_name, row.course_title, row.percent))
        .collect();
    assert_eq!(
        progress,
        [
            ("Lin".to_owned(), "Onboarding".to_owned(), 0),
            ("Nora".to_owned(), "Products refresher".to_owned(), 0),
            ("Ravi".to_owned(), "Onboarding".to_owned(), 100),
        ]
    );
    assert_eq!(mei.team(team).await.unwrap().len(), 3);
    let outside = mei.team("/northwind/west/").await.unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied);
    let rep = ravi.team("").await.unwrap_err();
    assert_eq!(rep.code(), Code::PermissionDenied);
}
