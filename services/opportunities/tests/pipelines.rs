//! The sales process (`PipelineService`): pipelines and their stages, close reasons, the
//! competitor catalogue and the priority board's settings — over a real tonic client against
//! real PostgreSQL and NATS.

use crm_platform::auth::Caller;
use crm_proto::crm::opportunities::v1::{
    self as pb, pipeline_service_client::PipelineServiceClient,
};
use crm_test_support::{TestApp, authorized, user};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;

const NORTHWIND: &str = "/northwind/";
const EAST_1: &str = "/northwind/east/east-1/";
/// The seeded "Direct" pipeline and two of its stages (migrations/opportunities).
const DIRECT: &str = "01900000-0000-7000-8000-000000000001";
const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";
const CLOSED_LOST: &str = "01900000-0000-7000-8000-000000000016";

struct Harness {
    app: TestApp,
    client: PipelineServiceClient<Channel>,
}

impl Harness {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_opportunities::module()]).await;
        let client = PipelineServiceClient::new(app.channel().await);
        Self { app, client }
    }

    fn client(&self) -> PipelineServiceClient<Channel> {
        self.client.clone()
    }

    fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    async fn create(
        &self,
        caller: &Caller,
        request: pb::CreatePipelineRequest,
    ) -> Result<pb::Pipeline, Status> {
        self.client()
            .create_pipeline(self.request(caller, request))
            .await
            .map(|response| response.into_inner().pipeline.unwrap())
    }

    async fn get(&self, caller: &Caller, id: &str) -> Result<pb::Pipeline, Status> {
        self.client()
            .get_pipeline(self.request(
                caller,
                pb::GetPipelineRequest {
                    pipeline_id: id.into(),
                },
            ))
            .await
            .map(|response| response.into_inner().pipeline.unwrap())
    }

    async fn list(&self, caller: &Caller) -> Vec<pb::Pipeline> {
        self.client()
            .list_pipelines(self.request(caller, pb::ListPipelinesRequest {}))
            .await
            .unwrap()
            .into_inner()
            .pipelines
    }

    async fn update(
        &self,
        caller: &Caller,
        request: pb::UpdatePipelineRequest,
    ) -> Result<pb::Pipeline, Status> {
        self.client()
            .update_pipeline(self.request(caller, request))
            .await
            .map(|response| response.into_inner().pipeline.unwrap())
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool("opportunities"))
            .await
            .unwrap()
    }
}

fn admin() -> Caller {
    user("admin", NORTHWIND)
}

fn stage(name: &str, kind: pb::StageKind, probability: u32) -> pb::StageInput {
    let category = match kind {
        pb::StageKind::Won => pb::ForecastCategory::Closed,
        pb::StageKind::Lost => pb::ForecastCategory::Omitted,
        _ if probability >= 50 => pb::ForecastCategory::BestCase,
        _ => pb::ForecastCategory::Pipeline,
    };
    pb::StageInput {
        name: name.into(),
        kind: kind.into(),
        default_probability: probability,
        forecast_category: category.into(),
        ..Default::default()
    }
}

/// A stage as it is now, to send back in an update (changed or not).
fn kept(stage: &pb::Stage) -> pb::StageInput {
    pb::StageInput {
        id: stage.id.clone(),
        name: stage.name.clone(),
        kind: stage.kind,
        default_probability: stage.default_probability,
        forecast_category: stage.forecast_category,
        exit_criteria: stage.exit_criteria.clone(),
        guidance: stage.guidance.clone(),
        retired: stage.retired,
    }
}

fn automation(stages: Vec<pb::StageInput>) -> pb::CreatePipelineRequest {
    pb::CreatePipelineRequest {
        name: "Automation lines".into(),
        description: "Factory automation projects".into(),
        product_line: "Automation".into(),
        stages,
        ..Default::default()
    }
}

fn four_stages() -> Vec<pb::StageInput> {
    vec![
        stage("Qualify", pb::StageKind::Open, 10),
        stage("Propose", pb::StageKind::Open, 50),
        stage("Won", pb::StageKind::Won, 100),
        stage("Lost", pb::StageKind::Lost, 0),
    ]
}

fn fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|request| {
            request
                .field_violations
                .iter()
                .map(|violation| violation.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn reason(status: &Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_seeded_direct_pipeline_is_listed_as_default() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);

    let pipelines = harness.list(&ravi).await;

    assert_eq!(pipelines.len(), 1);
    let direct = &pipelines[0];
    assert_eq!(
        (direct.id.as_str(), direct.name.as_str()),
        (DIRECT, "Direct")
    );
    assert!(direct.is_default);
    let stages: Vec<(&str, u32, i32)> = direct
        .stages
        .iter()
        .map(|stage| (stage.name.as_str(), stage.position, stage.kind))
        .collect();
    let (open, won, lost) = (
        pb::StageKind::Open as i32,
        pb::StageKind::Won as i32,
        pb::StageKind::Lost as i32,
    );
    assert_eq!(
        stages,
        [
            ("Qualify", 1, open),
            ("Develop", 2, open),
            ("Propose", 3, open),
            ("Negotiate", 4, open),
            ("Closed Won", 5, won),
            ("Closed Lost", 6, lost),
        ]
    );
    assert_eq!(
        direct.stages[3].forecast_category,
        pb::ForecastCategory::Commit as i32
    );
}

#[tokio::test]
async fn an_admin_creates_a_pipeline_with_exit_criteria_and_guidance_and_reads_it_back() {
    let harness = Harness::start().await;
    let playbook = Uuid::now_v7().to_string();
    let mut stages = four_stages();
    stages[0].exit_criteria = vec!["amount".into(), " custom_fields.budget ".into()];
    stages[1].exit_criteria = vec!["buying_committee.decision_maker".into()];
    stages[1].guidance = Some(pb::StageGuidance {
        tasks: vec![" Confirm budget with the economic buyer ".into()],
        playbook_article_ids: vec![playbook.clone()],
        notes: "Send the proposal\nwithin a week.".into(),
    });

    let created = harness
        .create(
            &admin(),
            pb::CreatePipelineRequest {
                name: " Automation lines ".into(),
                ..automation(stages)
            },
        )
        .await
        .unwrap();

    assert_eq!(created.name, "Automation lines");
    assert_eq!(created.version, 1);
    assert!(!created.is_default);
    let positions: Vec<u32> = created.stages.iter().map(|stage| stage.position).collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    assert_eq!(
        created.stages[0].exit_criteria,
        ["amount", "custom_fields.budget"]
    );
    let guidance = created.stages[1].guidance.clone().unwrap();
    assert_eq!(guidance.tasks, ["Confirm budget with the economic buyer"]);
    assert_eq!(guidance.playbook_article_ids, [playbook]);
    assert_eq!(guidance.notes, "Send the proposal\nwithin a week.");
    // Every role reads it back as it was made, the default pipeline still first.
    let ravi = user("rep", EAST_1);
    assert_eq!(harness.get(&ravi, &created.id).await.unwrap(), created);
    let names: Vec<String> = harness
        .list(&ravi)
        .await
        .into_iter()
        .map(|pipeline| pipeline.name)
        .collect();
    assert_eq!(names, ["Direct", "Automation lines"]);
    let missing = harness
        .get(&ravi, &Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn a_rep_may_read_but_not_create_or_change_pipelines() {
    let harness = Harness::start().await;
    for caller in [user("rep", EAST_1), user("manager", "/northwind/east/")] {
        let refused = harness
            .create(&caller, automation(four_stages()))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = harness
            .update(
                &caller,
                pb::UpdatePipelineRequest {
                    pipeline_id: DIRECT.into(),
                    name: Some("Mine".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert_eq!(harness.get(&caller, DIRECT).await.unwrap().name, "Direct");
    }
    assert_eq!(harness.count("SELECT count(*) FROM pipelines").await, 1);
}

#[tokio::test]
async fn an_invalid_stage_list_names_every_broken_field() {
    let harness = Harness::start().await;
    // Each stage's own fields.
    let mut stages = four_stages();
    stages[0].name = " ".into();
    stages[0].default_probability = 150;
    stages[1].guidance = Some(pb::StageGuidance {
        tasks: vec![String::new()],
        playbook_article_ids: vec!["article-1".into()],
        notes: String::new(),
    });
    stages[3].kind = pb::StageKind::Unspecified.into();
    let refused = harness
        .create(
            &admin(),
            pb::CreatePipelineRequest {
                name: String::new(),
                ..automation(stages)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields(&refused),
        [
            "name",
            "stages[0].name",
            "stages[0].default_probability",
            "stages[1].guidance.tasks[0]",
            "stages[1].guidance.playbook_article_ids[0]",
            "stages[3].kind",
        ]
    );

    // The list's rules, each named where it breaks.
    let mut stages = four_stages();
    stages[1].name = "qualify".into();
    stages[2].default_probability = 90;
    stages.push(stage("Late", pb::StageKind::Open, 20));
    let refused = harness
        .create(&admin(), automation(stages))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        fields(&refused),
        [
            "stages[1].name",
            "stages[2].default_probability",
            "stages[4].kind",
        ]
    );
    let refused = harness
        .create(
            &admin(),
            automation(vec![stage("Won", pb::StageKind::Won, 100)]),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&refused), ["stages", "stages"]);
    assert_eq!(harness.count("SELECT count(*) FROM pipelines").await, 1);
}

#[tokio::test]
async fn a_bad_exit_criterion_names_its_field() {
    let harness = Harness::start().await;
    let mut stages = four_stages();
    stages[1].exit_criteria = vec!["next_step".into(), "budget".into(), "next_step".into()];

    let refused = harness
        .create(&admin(), automation(stages))
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        fields(&refused),
        ["stages[1].exit_criteria[1]", "stages[1].exit_criteria[2]"]
    );
    let details = refused.get_error_details();
    let violation = &details.bad_request().unwrap().field_violations[0];
    assert!(
        violation.description.contains("custom_fields.<key>"),
        "{}",
        violation.description
    );
}

#[tokio::test]
async fn an_update_replaces_the_stage_list() {
    let harness = Harness::start().await;
    let mut stages = four_stages();
    stages.insert(2, stage("Negotiate", pb::StageKind::Open, 75));
    let created = harness.create(&admin(), automation(stages)).await.unwrap();
    let [qualify, propose, negotiate, won, lost] = &created.stages[..] else {
        panic!("five stages");
    };

    // Propose renamed and first, a new Discover stage, Qualify retired, Negotiate left out.
    let updated = harness
        .update(
            &admin(),
            pb::UpdatePipelineRequest {
                pipeline_id: created.id.clone(),
                name: Some("Automation".into()),
                stages: Some(pb::StageList {
                    stages: vec![
                        pb::StageInput {
                            name: "Proposal".into(),
                            ..kept(propose)
                        },
                        stage("Discover", pb::StageKind::Open, 20),
                        pb::StageInput {
                            retired: true,
                            ..kept(qualify)
                        },
                        kept(won),
                        kept(lost),
                    ],
                }),
                make_default: true,
                expected_version: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(updated.version, 2);
    assert_eq!(updated.name, "Automation");
    assert_eq!(
        updated.description, created.description,
        "untouched fields stay"
    );
    let summary: Vec<(&str, u32, bool)> = updated
        .stages
        .iter()
        .map(|stage| (stage.name.as_str(), stage.position, stage.retired))
        .collect();
    assert_eq!(
        summary,
        [
            ("Proposal", 1, false),
            ("Discover", 2, false),
            ("Qualify", 3, true),
            ("Won", 4, false),
            ("Lost", 5, false),
        ]
    );
    assert_eq!(updated.stages[0].id, propose.id);
    assert!(
        created
            .stages
            .iter()
            .all(|stage| stage.id != updated.stages[1].id)
    );
    let deleted = format!("SELECT count(*) FROM stages WHERE id = '{}'", negotiate.id);
    assert_eq!(harness.count(&deleted).await, 0);
    assert_eq!(harness.get(&admin(), &created.id).await.unwrap(), updated);
    // It is the default now, and listed first.
    let listed = harness.list(&admin()).await;
    assert_eq!(
        listed
            .iter()
            .map(|pipeline| (pipeline.name.as_str(), pipeline.is_default))
            .collect::<Vec<_>>(),
        [("Automation", true), ("Direct", false)]
    );

    // A stale version is ABORTED; an id of another pipeline's stage is named; the same values
    // again are not a new version.
    let stale = harness
        .update(
            &admin(),
            pb::UpdatePipelineRequest {
                pipeline_id: created.id.clone(),
                description: Some("Changed".into()),
                expected_version: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let mut foreign = updated.stages.iter().map(kept).collect::<Vec<_>>();
    foreign[1].id = DEVELOP.into();
    let refused = harness
        .update(
            &admin(),
            pb::UpdatePipelineRequest {
                pipeline_id: created.id.clone(),
                stages: Some(pb::StageList { stages: foreign }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "UNUSABLE_REFERENCE");
    assert_eq!(fields(&refused), ["stages.stages[1].id"]);
    let same = harness
        .update(
            &admin(),
            pb::UpdatePipelineRequest {
                pipeline_id: created.id.clone(),
                name: Some("Automation".into()),
                stages: Some(pb::StageList {
                    stages: updated.stages.iter().map(kept).collect(),
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(same, updated);
}

#[tokio::test]
async fn a_stage_a_deal_uses_is_retired_not_deleted_and_keeps_its_kind() {
    let harness = Harness::start().await;
    let pool = harness.app.pool("opportunities");
    let (deal, owner) = (Uuid::now_v7(), Uuid::now_v7());
    let direct: Uuid = DIRECT.parse().unwrap();
    let develop: Uuid = DEVELOP.parse().unwrap();
    sqlx::query(
        "INSERT INTO opportunities (id, name, account_id, owner_id, owner_team_path, pipeline_id, \
         stage_id, status, effective_probability, currency, amount, expected_close_date, \
         stage_entered_at, version, created_at, updated_at) \
         VALUES ($1, 'Contoso line 2', $2, $3, $4, $5, $6, 1, 25, 'CNY', 480000, '2027-03-31', \
         now(), 1, now(), now())",
    )
    .bind(deal)
    .bind(Uuid::now_v7())
    .bind(owner)
    .bind(EAST_1)
    .bind(direct)
    .bind(develop)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO stage_history (id, opportunity_id, pipeline_id, stage_id, owner_id, \
         owner_team_path, entered_at) VALUES ($1, $2, $3, $4, $5, $6, now())",
    )
    .bind(Uuid::now_v7())
    .bind(deal)
    .bind(direct)
    .bind(develop)
    .bind(owner)
    .bind(EAST_1)
    .execute(pool)
    .await
    .unwrap();
    let current = harness.get(&admin(), DIRECT).await.unwrap();
    let without_develop: Vec<pb::StageInput> = current
        .stages
        .iter()
        .filter(|stage| stage.id != DEVELOP)
        .map(kept)
        .collect();
    let update = |stages: Vec<pb::StageInput>| pb::UpdatePipelineRequest {
        pipeline_id: DIRECT.into(),
        stages: Some(pb::StageList { stages }),
        ..Default::default()
    };

    let refused = harness
        .update(&admin(), update(without_develop))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "STAGE_IN_USE");
    assert_eq!(
        refused.get_error_details().error_info().unwrap().metadata["stage"],
        "Develop"
    );

    // Develop as the lost stage (the old one retired): its deal would change status.
    let mut as_lost: Vec<pb::StageInput> = current
        .stages
        .iter()
        .filter(|stage| stage.id != DEVELOP)
        .map(kept)
        .collect();
    as_lost.last_mut().unwrap().retired = true;
    as_lost.push(pb::StageInput {
        kind: pb::StageKind::Lost.into(),
        default_probability: 0,
        forecast_category: pb::ForecastCategory::Omitted.into(),
        ..kept(&current.stages[1])
    });
    let refused = harness.update(&admin(), update(as_lost)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "STAGE_KIND_IN_USE");
    let metadata = refused
        .get_error_details()
        .error_info()
        .unwrap()
        .metadata
        .clone();
    assert_eq!(
        (metadata["from"].as_str(), metadata["to"].as_str()),
        ("open", "lost")
    );

    let mut retiring: Vec<pb::StageInput> = current.stages.iter().map(kept).collect();
    retiring[1].retired = true;
    let retired = harness.update(&admin(), update(retiring)).await.unwrap();
    assert!(retired.stages[1].retired);
    assert_eq!(retired.stages[1].id, DEVELOP);
    assert_eq!(retired.version, current.version + 1);
    // An unused stage still goes: the seeded lost stage, replaced by a new one.
    let mut replacing: Vec<pb::StageInput> = retired
        .stages
        .iter()
        .filter(|stage| stage.id != CLOSED_LOST)
        .map(kept)
        .collect();
    replacing.push(stage("Lost", pb::StageKind::Lost, 0));
    let replaced = harness.update(&admin(), update(replacing)).await.unwrap();
    assert_eq!(replaced.stages.last().unwrap().name, "Lost");
    assert_eq!(harness.count("SELECT count(*) FROM stages").await, 6);
}

#[tokio::test]
async fn a_retried_create_with_the_same_id_returns_the_first_result() {
    let harness = Harness::start().await;
    let id = Uuid::now_v7().to_string();
    let request = pb::CreatePipelineRequest {
        pipeline_id: id.clone(),
        ..automation(four_stages())
    };
    let ada = admin();

    let first = harness.create(&ada, request.clone()).await.unwrap();
    let again = harness.create(&ada, request.clone()).await.unwrap();

    assert_eq!(first.id, id);
    assert_eq!(again, first);
    assert_eq!(harness.count("SELECT count(*) FROM pipelines").await, 2);
    let taken = harness.create(&admin(), request).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(reason(&taken), "ID_TAKEN");
    let seeded = harness
        .create(
            &ada,
            pb::CreatePipelineRequest {
                pipeline_id: DIRECT.into(),
                ..automation(four_stages())
            },
        )
        .await
        .unwrap_err();
    assert_eq!(reason(&seeded), "ID_TAKEN");
    let clash = harness
        .create(
            &ada,
            pb::CreatePipelineRequest {
                name: "DIRECT".into(),
                ..automation(four_stages())
            },
        )
        .await
        .unwrap_err();
    assert_eq!(clash.code(), Code::AlreadyExists);
    assert_eq!(reason(&clash), "NAME_TAKEN");
}

#[tokio::test]
async fn close_reasons_are_unique_per_outcome_and_retire() {
    let started = Harness::start().await;
    // Borrowed, so the closures below can each hand a copy to their futures.
    let harness = &started;
    let create = |caller: Caller, outcome: pb::CloseOutcomeKind, label: &str| {
        let request = harness.request(
            &caller,
            pb::CreateCloseReasonRequest {
                outcome: outcome.into(),
                label: label.into(),
            },
        );
        async move {
            harness
                .client()
                .create_close_reason(request)
                .await
                .map(|response| response.into_inner().close_reason.unwrap())
        }
    };
    let list = |outcome: pb::CloseOutcomeKind, include_retired: bool| {
        let request = harness.request(
            &user("rep", EAST_1),
            pb::ListCloseReasonsRequest {
                outcome: outcome.into(),
                include_retired,
            },
        );
        async move {
            harness
                .client()
                .list_close_reasons(request)
                .await
                .unwrap()
                .into_inner()
                .close_reasons
                .into_iter()
                .map(|reason| reason.label)
                .collect::<Vec<_>>()
        }
    };

    let timing = create(admin(), pb::CloseOutcomeKind::Lost, " Timing ")
        .await
        .unwrap();
    assert_eq!(timing.label, "Timing");
    // Case-insensitive within an outcome; the other outcome may have the label.
    let clash = create(admin(), pb::CloseOutcomeKind::Lost, "TIMING")
        .await
        .unwrap_err();
    assert_eq!(
        (clash.code(), reason(&clash)),
        (Code::AlreadyExists, "NAME_TAKEN".into())
    );
    create(admin(), pb::CloseOutcomeKind::Won, "Timing")
        .await
        .unwrap();
    let denied = create(
        user("manager", NORTHWIND),
        pb::CloseOutcomeKind::Won,
        "Speed",
    )
    .await
    .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = create(admin(), pb::CloseOutcomeKind::Unspecified, "")
        .await
        .unwrap_err();
    assert_eq!(fields(&invalid), ["outcome", "label"]);
    assert_eq!(
        list(pb::CloseOutcomeKind::Unspecified, false).await,
        [
            "Price",
            "Product fit",
            "Relationship",
            "Timing",
            "Lost to competitor",
            "No budget",
            "No decision",
            "Price",
            "Timing"
        ]
    );

    let update = |label: Option<&str>, retired: Option<bool>| {
        let request = harness.request(
            &admin(),
            pb::UpdateCloseReasonRequest {
                close_reason_id: timing.id.clone(),
                label: label.map(Into::into),
                retired,
            },
        );
        async move {
            harness
                .client()
                .update_close_reason(request)
                .await
                .map(|response| response.into_inner().close_reason.unwrap())
        }
    };
    let clash = update(Some("no budget"), None).await.unwrap_err();
    assert_eq!(reason(&clash), "NAME_TAKEN");
    let retired = update(Some("Bad timing"), Some(true)).await.unwrap();
    assert_eq!(
        (retired.label.as_str(), retired.retired),
        ("Bad timing", true)
    );
    assert_eq!(
        list(pb::CloseOutcomeKind::Lost, false).await,
        ["Lost to competitor", "No budget", "No decision", "Price"]
    );
    assert!(
        list(pb::CloseOutcomeKind::Lost, true)
            .await
            .contains(&"Bad timing".to_owned())
    );
}

#[tokio::test]
async fn managers_keep_the_competitor_catalogue_with_unique_names() {
    let started = Harness::start().await;
    // Borrowed, so the closures below can each hand a copy to their futures.
    let harness = &started;
    let manager = user("manager", "/northwind/east/");
    let create = |caller: &Caller, name: &str| {
        let request = harness.request(
            caller,
            pb::CreateCompetitorRequest {
                name: name.into(),
                website: " https://fabrikam.example ".into(),
                description: "Low-cost lines".into(),
            },
        );
        async move {
            harness
                .client()
                .create_competitor(request)
                .await
                .map(|response| response.into_inner().competitor.unwrap())
        }
    };
    let list = |include_retired: bool| {
        let request = harness.request(
            &user("rep", EAST_1),
            pb::ListCompetitorsRequest { include_retired },
        );
        async move {
            harness
                .client()
                .list_competitors(request)
                .await
                .unwrap()
                .into_inner()
                .competitors
                .into_iter()
                .map(|competitor| competitor.name)
                .collect::<Vec<_>>()
        }
    };

    let fabrikam = create(&manager, "Fabrikam").await.unwrap();
    assert_eq!(fabrikam.website, "https://fabrikam.example");
    create(&admin(), "Adventure Works").await.unwrap();
    let clash = create(&admin(), " fabrikam ").await.unwrap_err();
    assert_eq!(
        (clash.code(), reason(&clash)),
        (Code::AlreadyExists, "NAME_TAKEN".into())
    );
    let denied = create(&user("rep", EAST_1), "Globex").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(list(false).await, ["Adventure Works", "Fabrikam"]);

    let update = |name: Option<&str>, retired: Option<bool>| {
        let request = harness.request(
            &manager,
            pb::UpdateCompetitorRequest {
                competitor_id: fabrikam.id.clone(),
                name: name.map(Into::into),
                description: Some("Low-cost lines, strong in the east".into()),
                retired,
                ..Default::default()
            },
        );
        async move {
            harness
                .client()
                .update_competitor(request)
                .await
                .map(|response| response.into_inner().competitor.unwrap())
        }
    };
    let clash = update(Some("ADVENTURE WORKS"), None).await.unwrap_err();
    assert_eq!(reason(&clash), "NAME_TAKEN");
    let retired = update(None, Some(true)).await.unwrap();
    assert!(retired.retired);
    assert_eq!(retired.description, "Low-cost lines, strong in the east");
    assert_eq!(retired.website, fabrikam.website, "untouched fields stay");
    assert_eq!(list(false).await, ["Adventure Works"]);
    assert_eq!(list(true).await, ["Adventure Works", "Fabrikam"]);
}

#[tokio::test]
async fn board_settings_change_with_validation_and_a_version() {
    let started = Harness::start().await;
    // Borrowed, so the closures below can each hand a copy to their futures.
    let harness = &started;
    let update = |caller: Caller, request: pb::UpdatePriorityBoardSettingsRequest| {
        let request = harness.request(&caller, request);
        async move {
            harness
                .client()
                .update_priority_board_settings(request)
                .await
                .map(|response| response.into_inner().settings.unwrap())
        }
    };
    let seeded = harness
        .client()
        .get_priority_board_settings(
            harness.request(&user("rep", EAST_1), pb::GetPriorityBoardSettingsRequest {}),
        )
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    assert_eq!(
        seeded,
        pb::PriorityBoardSettings {
            probability_weight: 35,
            amount_weight: 30,
            closeness_weight: 20,
            staleness_weight: 15,
            amount_scale: "1000000".into(),
            close_horizon_days: 90,
            version: 1,
        }
    );

    let changed = update(
        admin(),
        pb::UpdatePriorityBoardSettingsRequest {
            amount_weight: Some(0),
            amount_scale: Some("250000.00".into()),
            expected_version: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (changed.amount_weight, changed.amount_scale.as_str()),
        (0, "250000")
    );
    assert_eq!((changed.probability_weight, changed.version), (35, 2));

    let stale = update(
        admin(),
        pb::UpdatePriorityBoardSettingsRequest {
            close_horizon_days: Some(30),
            expected_version: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        (stale.code(), reason(&stale)),
        (Code::Aborted, "VERSION_CONFLICT".into())
    );
    let invalid = update(
        admin(),
        pb::UpdatePriorityBoardSettingsRequest {
            probability_weight: Some(101),
            amount_scale: Some("0".into()),
            close_horizon_days: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(invalid.code(), Code::FailedPrecondition);
    assert_eq!(
        fields(&invalid),
        ["probability_weight", "amount_scale", "close_horizon_days"]
    );
    let all_zero = update(
        admin(),
        pb::UpdatePriorityBoardSettingsRequest {
            probability_weight: Some(0),
            closeness_weight: Some(0),
            staleness_weight: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(all_zero.code(), Code::FailedPrecondition);
    assert_eq!(reason(&all_zero), "INCONSISTENT_FIELDS");
    let details = all_zero.get_error_details();
    let text_code = &details.error_info().unwrap().metadata["text_code"];
    assert_eq!(text_code, "common.inconsistent_fields");
    assert_eq!(
        fields(&all_zero),
        ["probability_weight", "closeness_weight", "staleness_weight"]
    );
    let denied = update(user("manager", NORTHWIND), Default::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // The values it has are not a new version.
    let same = update(
        admin(),
        pb::UpdatePriorityBoardSettingsRequest {
            amount_weight: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(same, changed);
}
