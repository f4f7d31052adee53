//! The knowledge service's deal content, usage and training rows (docs/api.md, "Knowledge"):
//! a deal's recommendations and attachments go with the deal — out of the caller's reach it
//! does not exist (NOT_FOUND), as in the opportunities service; an account's attachments list
//! only the deals the caller sees; everyone reads, votes and sees the influence over their own
//! reach; only managers and admins write and assign courses (to people in their reach) and see
//! a team's progress.
//!
//! The service learns deals from the opportunities service's events and people from the
//! gateway's, so the table waits until it knows every person's deal and every person.

use std::time::Duration;

use crm_proto::crm::knowledge::v1::{
    self as pb, deal_content_service_client::DealContentServiceClient,
    training_service_client::TrainingServiceClient, usage_service_client::UsageServiceClient,
};
use crm_test_support::{authorized, eventually};
use tonic::{Code, transport::Channel};

use super::super::{
    DENIED, Expect, Http, Kind, NOT_FOUND, OK, Org, Pool, Refusal, Rel, Report, Role, Transport,
    Who, no_ids,
};

#[derive(Clone, Debug)]
pub(crate) enum Call {
    Recommend(pb::RecommendForDealRequest),
    Attach(pb::AttachArticleRequest),
    Detach(pb::DetachArticleRequest),
    DealArticles(pb::ListDealArticlesRequest),
    AccountArticles(pb::ListAccountArticlesRequest),
    View(pb::RecordViewRequest),
    Vote(pb::VoteHelpfulRequest),
    Usage(pb::GetArticleUsageRequest),
    Influence,
    CreateCourse(pb::CreateCourseRequest),
    ListCourses,
    AssignCourse(pb::AssignCourseRequest),
    CompleteLesson(pb::CompleteLessonRequest),
    MyTraining,
    TeamProgress(pb::GetTeamProgressRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Recommendations for the deal of the person `Rel` names (see the parent's table).
    Recommend(Rel),
    Attach(Rel),
    /// Detaching an article the admin attached.
    Detach(Rel),
    DealArticles(Rel),
    /// The attachments of that person's account: the deal is listed exactly when readable.
    AccountArticles(Rel),
    /// A read of a published article, for that person's deal (or for none).
    View(Option<Rel>),
    Vote,
    Usage,
    Influence,
    CreateCourse,
    ListCourses,
    /// Giving a course to Ravi (East) or Wes (West).
    AssignCourse(Who),
    /// A lesson of a course the actor was given.
    CompleteLesson,
    MyTraining,
    /// A team's progress: the caller's whole reach, or a named team.
    TeamProgress(Option<Pool>),
}

/// A user outside the caller's reach is named as no user it can give a course to.
const UNUSABLE: Expect = Expect::Refused(Code::FailedPrecondition);

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                  admin      manager    rep
    (Action::Recommend(Rel::Own),              OK,        OK,        OK),
    (Action::Recommend(Rel::Team),             OK,        OK,        NOT_FOUND),
    (Action::Recommend(Rel::Other),            OK,        NOT_FOUND, NOT_FOUND),
    (Action::Attach(Rel::Own),                 OK,        OK,        OK),
    (Action::Attach(Rel::Team),                OK,        OK,        NOT_FOUND),
    (Action::Attach(Rel::Other),               OK,        NOT_FOUND, NOT_FOUND),
    (Action::Detach(Rel::Own),                 OK,        OK,        OK),
    (Action::Detach(Rel::Team),                OK,        OK,        NOT_FOUND),
    (Action::Detach(Rel::Other),               OK,        NOT_FOUND, NOT_FOUND),
    (Action::DealArticles(Rel::Team),          OK,        OK,        NOT_FOUND),
    (Action::DealArticles(Rel::Other),         OK,        NOT_FOUND, NOT_FOUND),
    (Action::AccountArticles(Rel::Own),        OK,        OK,        OK),
    (Action::AccountArticles(Rel::Team),       OK,        OK,        NOT_FOUND),
    (Action::AccountArticles(Rel::Other),      OK,        NOT_FOUND, NOT_FOUND),
    (Action::View(None),                       OK,        OK,        OK),
    (Action::View(Some(Rel::Team)),            OK,        OK,        NOT_FOUND),
    (Action::View(Some(Rel::Other)),           OK,        NOT_FOUND, NOT_FOUND),
    (Action::Vote,                             OK,        OK,        OK),
    (Action::Usage,                            OK,        OK,        OK),
    // Over the caller's own reach: nobody is refused it.
    (Action::Influence,                        OK,        OK,        OK),
    (Action::CreateCourse,                     OK,        OK,        DENIED),
    (Action::ListCourses,                      OK,        OK,        OK),
    (Action::AssignCourse(Who::Ravi),          OK,        OK,        DENIED),
    (Action::AssignCourse(Who::Wes),           OK,        UNUSABLE,  DENIED),
    (Action::CompleteLesson,                   OK,        OK,        OK),
    (Action::MyTraining,                       OK,        OK,        OK),
    (Action::TeamProgress(None),               OK,        OK,        DENIED),
    (Action::TeamProgress(Some(Pool::East)),   OK,        OK,        DENIED),
    (Action::TeamProgress(Some(Pool::West)),   OK,        DENIED,    DENIED),
];

/// The calls a cell's preparation makes as the admin (or as Nora and Mei for articles).
struct Preparer<'a> {
    org: &'a Org,
    writer: super::Writer,
    deals: DealContentServiceClient<Channel>,
    training: TrainingServiceClient<Channel>,
}

impl<'a> Preparer<'a> {
    fn new(org: &'a Org) -> Self {
        Self {
            org,
            writer: super::Writer {
                client: pb::article_service_client::ArticleServiceClient::new(org.channel.clone()),
            },
            deals: DealContentServiceClient::new(org.channel.clone()),
            training: TrainingServiceClient::new(org.channel.clone()),
        }
    }

    fn admin(&self) -> &str {
        self.org.token(Who::Ada)
    }

    /// A fresh published article's id.
    async fn published(&mut self) -> String {
        let draft = self
            .writer
            .create(self.org.token(Who::Nora), "Discovery questions")
            .await;
        let mei = self.org.token(Who::Mei);
        let article = self
            .writer
            .review(mei, &draft, 1, pb::ReviewAction::Publish)
            .await;
        article.article_id
    }

    fn deal(&self, role: Role, rel: Rel) -> String {
        self.org.records[&(Kind::Opportunity, Who::owner(role, rel))].clone()
    }

    async fn attach(&mut self, deal_id: &str, article_id: &str) {
        let request = pb::AttachArticleRequest {
            deal_id: deal_id.into(),
            article_id: article_id.into(),
        };
        let admin = self.org.token(Who::Ada).to_owned();
        self.deals
            .attach_article(authorized(request, &admin))
            .await
            .expect("the admin attaches");
    }

    /// A fresh course of one published article, made by the admin; (course, article).
    async fn course(&mut self) -> (String, String) {
        let article_id = self.published().await;
        let request = pb::CreateCourseRequest {
            course: Some(pb::CourseInput {
                title: "First week".into(),
                article_ids: vec![article_id.clone()],
                ..Default::default()
            }),
        };
        let admin = self.admin().to_owned();
        let course = self
            .training
            .create_course(authorized(request, &admin))
            .await
            .expect("the admin writes a course")
            .into_inner()
            .course
            .unwrap();
        (course.course_id, article_id)
    }

    async fn assign(&mut self, course_id: &str, who: Who) -> Result<(), tonic::Status> {
        let request = pb::AssignCourseRequest {
            course_id: course_id.into(),
            user_ids: vec![self.org.people[&who].id.clone()],
        };
        let admin = self.admin().to_owned();
        self.training
            .assign_course(authorized(request, &admin))
            .await
            .map(drop)
    }

    /// Waits until the service knows every person's deal and every person.
    async fn wait_for_the_org(&mut self) {
        for who in Who::ALL {
            let deal_id = self.org.records[&(Kind::Opportunity, who)].clone();
            let what = format!("{who:?}'s deal known to the knowledge service");
            eventually(Duration::from_secs(20), &what, || {
                let mut deals = self.deals.clone();
                let request = pb::RecommendForDealRequest {
                    deal_id: deal_id.clone(),
                    ..Default::default()
                };
                let admin = self.admin().to_owned();
                async move { known(deals.recommend_for_deal(authorized(request, &admin)).await) }
            })
            .await;
        }
        let (course_id, _) = self.course().await;
        for who in Who::ALL {
            let what = format!("{who:?} known to the knowledge service");
            eventually(Duration::from_secs(20), &what, || {
                let mut preparer = Preparer::new(self.org);
                let course_id = course_id.clone();
                async move { known(preparer.assign(&course_id, who).await) }
            })
            .await;
        }
    }

    async fn prepare(&mut self, action: Action, role: Role) -> (Call, Option<String>) {
        let call = match action {
            Action::Recommend(rel) => Call::Recommend(pb::RecommendForDealRequest {
                deal_id: self.deal(role, rel),
                ..Default::default()
            }),
            Action::Attach(rel) => Call::Attach(pb::AttachArticleRequest {
                deal_id: self.deal(role, rel),
                article_id: self.published().await,
            }),
            Action::Detach(rel) => {
                let (deal_id, article_id) = (self.deal(role, rel), self.published().await);
                self.attach(&deal_id, &article_id).await;
                Call::Detach(pb::DetachArticleRequest {
                    deal_id,
                    article_id,
                })
            }
            Action::DealArticles(rel) => Call::DealArticles(pb::ListDealArticlesRequest {
                deal_id: self.deal(role, rel),
            }),
            Action::AccountArticles(rel) => {
                let (deal_id, article_id) = (self.deal(role, rel), self.published().await);
                self.attach(&deal_id, &article_id).await;
                let owner = Who::owner(role, rel);
                let call = Call::AccountArticles(pb::ListAccountArticlesRequest {
                    account_id: self.org.records[&(Kind::Account, owner)].clone(),
                });
                return (call, Some(deal_id));
            }
            Action::View(rel) => Call::View(pb::RecordViewRequest {
                article_id: self.published().await,
                deal_id: rel.map(|rel| self.deal(role, rel)).unwrap_or_default(),
            }),
            Action::Vote => Call::Vote(pb::VoteHelpfulRequest {
                article_id: self.published().await,
                vote: pb::Vote::Helpful as i32,
            }),
            Action::Usage => Call::Usage(pb::GetArticleUsageRequest {
                article_id: self.published().await,
            }),
            Action::Influence => Call::Influence,
            Action::CreateCourse => Call::CreateCourse(pb::CreateCourseRequest {
                course: Some(pb::CourseInput {
                    title: "Pricing conversations".into(),
                    article_ids: vec![self.published().await],
                    ..Default::default()
                }),
            }),
            Action::ListCourses => Call::ListCourses,
            Action::AssignCourse(who) => Call::AssignCourse(pb::AssignCourseRequest {
                course_id: self.course().await.0,
                user_ids: vec![self.org.people[&who].id.clone()],
            }),
            Action::CompleteLesson => {
                let (course_id, article_id) = self.course().await;
                self.assign(&course_id, Who::actor(role))
                    .await
                    .expect("the admin gives the actor the course");
                Call::CompleteLesson(pb::CompleteLessonRequest {
                    course_id,
                    article_id,
                })
            }
            Action::MyTraining => Call::MyTraining,
            Action::TeamProgress(pool) => Call::TeamProgress(pb::GetTeamProgressRequest {
                team_path: pool
                    .map(|pool| self.org.pool_team(pool).path.clone())
                    .unwrap_or_default(),
            }),
        };
        (call, None)
    }
}

/// Known yet: FAILED_PRECONDITION or NOT_FOUND while the events have not come.
fn known<T>(outcome: Result<T, tonic::Status>) -> bool {
    match outcome {
        Ok(_) => true,
        Err(status) if matches!(status.code(), Code::NotFound | Code::FailedPrecondition) => false,
        Err(status) => panic!("waiting for the knowledge service: {status}"),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    Preparer::new(org).wait_for_the_org().await;
    super::super::run_table(org, transport, report, ACTIONS, async |action, role| {
        let (call, listed) = Preparer::new(org).prepare(action, role).await;
        (
            super::super::Call::Knowledge(super::Call::Content(call)),
            listed,
        )
    })
    .await;
}

/// The deals an account listing names.
fn deal_ids(attachments: &[pb::DealArticle]) -> Vec<String> {
    attachments
        .iter()
        .map(|attachment| attachment.deal_id.clone())
        .collect()
}

/// A call straight to the service's gRPC API.
pub(super) async fn grpc(
    channel: &Channel,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut deals = DealContentServiceClient::new(channel.clone());
    let mut usage = UsageServiceClient::new(channel.clone());
    let mut training = TrainingServiceClient::new(channel.clone());
    let answered = match call {
        Call::Recommend(r) => deals
            .recommend_for_deal(authorized(r, token))
            .await
            .map(no_ids),
        Call::Attach(r) => deals.attach_article(authorized(r, token)).await.map(no_ids),
        Call::Detach(r) => deals.detach_article(authorized(r, token)).await.map(no_ids),
        Call::DealArticles(r) => deals
            .list_deal_articles(authorized(r, token))
            .await
            .map(no_ids),
        Call::AccountArticles(r) => deals
            .list_account_articles(authorized(r, token))
            .await
            .map(|reply| deal_ids(&reply.into_inner().attachments)),
        Call::View(r) => usage.record_view(authorized(r, token)).await.map(no_ids),
        Call::Vote(r) => usage.vote_helpful(authorized(r, token)).await.map(no_ids),
        Call::Usage(r) => usage
            .get_article_usage(authorized(r, token))
            .await
            .map(no_ids),
        Call::Influence => usage
            .get_content_influence(authorized(pb::GetContentInfluenceRequest::default(), token))
            .await
            .map(no_ids),
        Call::CreateCourse(r) => training
            .create_course(authorized(r, token))
            .await
            .map(no_ids),
        Call::ListCourses => training
            .list_courses(authorized(pb::ListCoursesRequest {}, token))
            .await
            .map(no_ids),
        Call::AssignCourse(r) => training
            .assign_course(authorized(r, token))
            .await
            .map(no_ids),
        Call::CompleteLesson(r) => training
            .complete_lesson(authorized(r, token))
            .await
            .map(no_ids),
        Call::MyTraining => training
            .get_my_training(authorized(pb::GetMyTrainingRequest {}, token))
            .await
            .map(no_ids),
        Call::TeamProgress(r) => training
            .get_team_progress(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let get = async |path: String| door.send(Method::GET, &path, token, None).await.map(no_ids);
    let post = async |path: String, body: Vec<u8>| {
        door.send(Method::POST, &path, token, Some(body))
            .await
            .map(no_ids)
    };
    match call {
        Call::Recommend(r) => {
            get(format!("/v1/knowledge/deals/{}/recommendations", r.deal_id)).await
        }
        Call::Attach(r) => {
            let path = format!("/v1/knowledge/deals/{}/articles", r.deal_id);
            post(path, door.json(&r)).await
        }
        Call::Detach(r) => {
            let path = format!(
                "/v1/knowledge/deals/{}/articles/{}",
                r.deal_id, r.article_id
            );
            door.send(Method::DELETE, &path, token, None)
                .await
                .map(no_ids)
        }
        Call::DealArticles(r) => get(format!("/v1/knowledge/deals/{}/articles", r.deal_id)).await,
        Call::AccountArticles(r) => {
            let path = format!("/v1/knowledge/accounts/{}/articles", r.account_id);
            door.list_by(&path, token, "attachments", "deal_id").await
        }
        Call::View(r) => {
            let path = format!("/v1/knowledge/articles/{}:view", r.article_id);
            post(path, door.json(&r)).await
        }
        Call::Vote(r) => {
            let path = format!("/v1/knowledge/articles/{}:vote", r.article_id);
            post(path, door.json(&r)).await
        }
        Call::Usage(r) => get(format!("/v1/knowledge/articles/{}/usage", r.article_id)).await,
        Call::Influence => get("/v1/knowledge/influence".into()).await,
        Call::CreateCourse(r) => post("/v1/knowledge/courses".into(), door.json(&r)).await,
        Call::ListCourses => get("/v1/knowledge/courses".into()).await,
        Call::AssignCourse(r) => {
            let path = format!("/v1/knowledge/courses/{}:assign", r.course_id);
            post(path, door.json(&r)).await
        }
        Call::CompleteLesson(r) => {
            let path = format!(
                "/v1/knowledge/courses/{}/lessons/{}:complete",
                r.course_id, r.article_id
            );
            post(path, door.json(&r)).await
        }
        Call::MyTraining => get("/v1/knowledge/training/mine".into()).await,
        Call::TeamProgress(r) => {
            let path = format!(
                "/v1/knowledge/training/team{}",
                super::super::opportunities::query(&[("team_path", &r.team_path)])
            );
            get(path).await
        }
    }
}
