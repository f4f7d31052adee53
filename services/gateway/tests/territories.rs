//! Sales territories over real gRPC, HTTP, PostgreSQL and NATS: the hierarchy and its moves,
//! managers limited to their subtree, reps' territories on the user and in org events.

use std::time::Duration;

use crm_platform::events::headers;
use crm_proto::crm::gateway::v1::{
    self as pb, auth_service_client::AuthServiceClient, org_service_client::OrgServiceClient,
};
use crm_test_support::{HttpClient, TestApp, authorized, eventually};
use serde_json::json;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

mod support;

use support::PASSWORD;

/// Northwind: Ada the first admin of `/northwind/`, teams East (with East-1 below) and West,
/// Mei managing East, Ravi a rep in East-1 and Wes a rep in West, all logged in.
struct Org {
    app: TestApp,
    org: OrgServiceClient<Channel>,
    admin: String,
    mei: String,
    ravi: String,
    ravi_id: String,
    wes_id: String,
    east: pb::Team,
    east_1: pb::Team,
    west: pb::Team,
}

impl Org {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_gateway::module()]).await;
        support::first_admin(&app).await;
        let channel = app.channel().await;
        let auth = AuthServiceClient::new(channel.clone());
        let login = |email: &'static str| {
            let mut auth = auth.clone();
            async move {
                auth.login(pb::LoginRequest {
                    email: email.into(),
                    password: PASSWORD.into(),
                })
                .await
                .unwrap()
                .into_inner()
                .tokens
                .unwrap()
                .access_token
            }
        };
        let admin = login("ada@northwind.example").await;
        let mut org = OrgServiceClient::new(channel);
        let root = org
            .list_teams(authorized(pb::ListTeamsRequest {}, &admin))
            .await
            .unwrap()
            .into_inner()
            .teams
            .remove(0);
        let mut team = async |slug: &str, parent: &str| {
            org.create_team(authorized(
                pb::CreateTeamRequest {
                    slug: slug.into(),
                    name: slug.to_uppercase(),
                    parent_team_id: parent.into(),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .team
            .unwrap()
        };
        let east = team("east", &root.id).await;
        let east_1 = team("east-1", &east.id).await;
        let west = team("west", &root.id).await;
        let mut user = async |email: &str, role: pb::Role, team: &pb::Team| {
            org.create_user(authorized(
                pb::CreateUserRequest {
                    email: email.into(),
                    display_name: email.split('@').next().unwrap().into(),
                    role: role as i32,
                    team_id: team.id.clone(),
                    password: PASSWORD.into(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap()
        };
        user("mei@northwind.example", pb::Role::Manager, &east).await;
        let ravi = user("ravi@northwind.example", pb::Role::Rep, &east_1).await;
        let wes = user("wes@northwind.example", pb::Role::Rep, &west).await;
        Self {
            mei: login("mei@northwind.example").await,
            ravi: login("ravi@northwind.example").await,
            ravi_id: ravi.id,
            wes_id: wes.id,
            app,
            org,
            admin,
            east,
            east_1,
            west,
        }
    }

    async fn create(
        &self,
        token: &str,
        code: &str,
        parent: Option<&pb::Territory>,
        team: Option<&pb::Team>,
    ) -> Result<pb::Territory, tonic::Status> {
        self.org
            .clone()
            .create_territory(authorized(
                pb::CreateTerritoryRequest {
                    code: code.into(),
                    name: code.to_uppercase(),
                    parent_territory_id: parent.map(|p| p.id.clone()).unwrap_or_default(),
                    team_id: team.map(|t| t.id.clone()).unwrap_or_default(),
                    description: String::new(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().territory.unwrap())
    }

    async fn update(
        &self,
        token: &str,
        request: pb::UpdateTerritoryRequest,
    ) -> Result<pb::Territory, tonic::Status> {
        self.org
            .clone()
            .update_territory(authorized(request, token))
            .await
            .map(|r| r.into_inner().territory.unwrap())
    }

    async fn list(&self, token: &str, request: pb::ListTerritoriesRequest) -> Vec<String> {
        self.org
            .clone()
            .list_territories(authorized(request, token))
            .await
            .unwrap()
            .into_inner()
            .territories
            .into_iter()
            .map(|territory| territory.code)
            .collect()
    }

    async fn get(&self, token: &str, id: &str) -> Result<pb::Territory, tonic::Status> {
        self.org
            .clone()
            .get_territory(authorized(
                pb::GetTerritoryRequest {
                    territory_id: id.into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().territory.unwrap())
    }

    async fn set_territories(
        &self,
        token: &str,
        user_id: &str,
        codes: &[&str],
    ) -> Result<pb::User, tonic::Status> {
        self.org
            .clone()
            .update_user(authorized(
                pb::UpdateUserRequest {
                    user_id: user_id.into(),
                    territories: Some(pb::TerritoryCodes {
                        codes: codes.iter().map(|code| code.to_string()).collect(),
                    }),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }

    /// Every event on the gateway's stream so far: (type, payload).
    async fn events(&self) -> Vec<(String, bytes::Bytes)> {
        let context = self.app.services.context("gateway").unwrap();
        let Ok(mut stream) = context
            .jetstream
            .get_stream(context.naming.stream("gateway"))
            .await
        else {
            return Vec::new();
        };
        let count = stream.info().await.unwrap().state.messages;
        let mut events = Vec::new();
        for sequence in 1..=count {
            let message = stream.get_raw_message(sequence).await.unwrap();
            let kind = message
                .headers
                .get(headers::EVENT_TYPE)
                .unwrap()
                .to_string();
            events.push((kind, message.payload));
        }
        events
    }

    async fn drop_stream(&self) {
        let context = self.app.services.context("gateway").unwrap();
        let _ = context
            .jetstream
            .delete_stream(context.naming.stream("gateway"))
            .await;
    }
}

/// The fields a refusal for unknown records names: FAILED_PRECONDITION, UNUSABLE_REFERENCE
/// (the ids are valid in form; no such territory, team or code exists, or the move would
/// close a loop).
fn refused_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let details = status.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "UNUSABLE_REFERENCE");
    details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|violation| violation.field.clone())
        .collect()
}

/// The fields an INVALID_ARGUMENT names.
fn fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn move_to(territory: &pb::Territory, parent: &str) -> pb::UpdateTerritoryRequest {
    pb::UpdateTerritoryRequest {
        territory_id: territory.id.clone(),
        parent_territory_id: Some(parent.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_territory_hierarchy_is_built_read_and_moved_but_never_into_a_cycle() {
    let org = Org::start().await;
    let admin = org.admin.as_str();
    let apac = org.create(admin, "apac", None, None).await.unwrap();
    let china = org
        .create(admin, "china", Some(&apac), Some(&org.east))
        .await
        .unwrap();
    let east = org
        .create(admin, " CN-East ", Some(&china), Some(&org.east_1))
        .await
        .unwrap();
    let emea = org
        .create(admin, "emea", None, Some(&org.west))
        .await
        .unwrap();
    assert_eq!(east.code, "cn-east", "codes are trimmed and lowered");
    assert_eq!(
        (east.parent_code.as_str(), east.team_path.as_str()),
        ("china", "/northwind/east/east-1/")
    );
    assert_eq!(east.version, 1);

    // Reads: everyone sees the map; filters by parent, team subtree and code.
    let all = pb::ListTerritoriesRequest::default();
    assert_eq!(
        org.list(&org.ravi, all.clone()).await,
        ["apac", "china", "cn-east", "emea"]
    );
    let children_of_china = pb::ListTerritoriesRequest {
        parent_territory_id: china.id.clone(),
        ..Default::default()
    };
    assert_eq!(org.list(admin, children_of_china).await, ["cn-east"]);
    let covered_by_east = pb::ListTerritoriesRequest {
        team_id: org.east.id.clone(),
        ..Default::default()
    };
    assert_eq!(
        org.list(&org.mei, covered_by_east).await,
        ["china", "cn-east"],
        "East's subtree covers China and, through East-1, East China"
    );
    let by_code = pb::ListTerritoriesRequest {
        codes: vec!["EMEA".into(), "apac".into()],
        ..Default::default()
    };
    assert_eq!(org.list(admin, by_code).await, ["apac", "emea"]);
    assert_eq!(org.get(&org.ravi, &east.id).await.unwrap(), east);
    let missing = org.get(admin, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);

    // Cycles are refused with the loop spelled out, and nothing changes.
    let cycle = org
        .update(admin, move_to(&apac, &east.id))
        .await
        .unwrap_err();
    assert_eq!(refused_fields(&cycle), ["parent_territory_id"]);
    assert!(
        cycle
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .description
            .contains("apac → cn-east → china → apac"),
        "{cycle:?}"
    );
    let itself = org
        .update(admin, move_to(&china, &china.id))
        .await
        .unwrap_err();
    assert_eq!(refused_fields(&itself), ["parent_territory_id"]);
    assert_eq!(org.get(admin, &apac.id).await.unwrap(), apac, "unchanged");
    assert_eq!(org.get(admin, &china.id).await.unwrap(), china);

    // A real move, a rename with the version, a stale version.
    let moved = org.update(admin, move_to(&east, &emea.id)).await.unwrap();
    assert_eq!((moved.parent_code.as_str(), moved.version), ("emea", 2));
    let back = org.update(admin, move_to(&moved, &china.id)).await.unwrap();
    assert_eq!((back.parent_code.as_str(), back.version), ("china", 3));
    let top = org.update(admin, move_to(&back, "")).await.unwrap();
    assert_eq!(
        (top.parent_territory_id.as_str(), top.parent_code.as_str()),
        ("", "")
    );
    let renamed = org
        .update(
            admin,
            pb::UpdateTerritoryRequest {
                territory_id: china.id.clone(),
                name: Some("Greater China".into()),
                description: Some("Mainland, Hong Kong, Taiwan".into()),
                expected_version: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.version),
        ("Greater China", 2)
    );
    assert_eq!(renamed.code, "china", "the code never changes");
    let stale = org
        .update(
            admin,
            pb::UpdateTerritoryRequest {
                territory_id: china.id.clone(),
                name: Some("China".into()),
                expected_version: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let unchanged = org
        .update(
            admin,
            pb::UpdateTerritoryRequest {
                territory_id: china.id.clone(),
                name: Some("Greater China".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(unchanged.version, 2, "a no-op is not a new version");

    // Bad input: every field at fault at once; unknown ids; a taken code.
    let bad = org
        .org
        .clone()
        .create_territory(authorized(
            pb::CreateTerritoryRequest {
                code: "cn east".into(),
                name: " ".into(),
                parent_territory_id: "nope".into(),
                team_id: String::new(),
                description: "x".repeat(2001),
            },
            admin,
        ))
        .await
        .unwrap_err();
    let mut bad_fields = fields(&bad);
    bad_fields.sort();
    assert_eq!(
        bad_fields,
        ["code", "description", "name", "parent_territory_id"]
    );
    let nowhere = uuid::Uuid::now_v7().to_string();
    let unknown = org
        .org
        .clone()
        .create_territory(authorized(
            pb::CreateTerritoryRequest {
                code: "japan".into(),
                name: "Japan".into(),
                parent_territory_id: nowhere.clone(),
                team_id: nowhere.clone(),
                description: String::new(),
            },
            admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused_fields(&unknown), ["parent_territory_id", "team_id"]);
    let unknown_parent = org
        .update(admin, move_to(&apac, &nowhere))
        .await
        .unwrap_err();
    assert_eq!(refused_fields(&unknown_parent), ["parent_territory_id"]);
    let taken = org.create(admin, "APAC", None, None).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);

    // Every create and change is announced in full; refusals announce nothing.
    let expected = 4 + 4; // four creates; move, move back, to the top, rename
    eventually(
        Duration::from_secs(10),
        "territory events published",
        || async {
            org.events()
                .await
                .iter()
                .filter(|(kind, _)| kind == "crm.gateway.v1.TerritoryUpserted")
                .count()
                == expected
        },
    )
    .await;
    let upserts: Vec<pb::TerritoryUpserted> = org
        .events()
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "crm.gateway.v1.TerritoryUpserted")
        .map(|(_, payload)| prost::Message::decode(payload).unwrap())
        .collect();
    assert_eq!(upserts[2].territory.as_ref().unwrap(), &east);
    assert!(upserts[2].changed_fields.is_empty(), "a creation");
    assert_eq!(upserts[4].changed_fields, ["parent"]);
    assert_eq!(upserts[4].territory.as_ref().unwrap().parent_code, "emea");
    assert_eq!(upserts[7].changed_fields, ["name", "description"]);
    assert_eq!(upserts[7].territory.as_ref().unwrap(), &renamed);
    org.drop_stream().await;
}

#[tokio::test]
async fn managers_change_only_territories_of_their_subtree_and_reps_only_read() {
    let org = Org::start().await;
    let apac = org.create(&org.admin, "apac", None, None).await.unwrap();
    let us_west = org
        .create(&org.admin, "us-west", None, Some(&org.west))
        .await
        .unwrap();

    // Mei manages East: a territory for East-1 under the company's APAC is hers to create.
    let east = org
        .create(&org.mei, "cn-east", Some(&apac), Some(&org.east_1))
        .await
        .unwrap();
    for (code, team) in [("cn-west", Some(&org.west)), ("cn-north", None)] {
        let refused = org.create(&org.mei, code, Some(&apac), team).await;
        assert_eq!(
            refused.unwrap_err().code(),
            Code::PermissionDenied,
            "{code}"
        );
    }
    let renamed = org
        .update(
            &org.mei,
            pb::UpdateTerritoryRequest {
                territory_id: east.id.clone(),
                name: Some("East China".into()),
                team_id: Some(org.east.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.team_path, "/northwind/east/");
    // Outside her subtree: West's territory, APAC (no team), handing hers to West or to nobody.
    let outside = [
        pb::UpdateTerritoryRequest {
            territory_id: us_west.id.clone(),
            name: Some("Pacific".into()),
            ..Default::default()
        },
        move_to(&apac, &east.id),
        pb::UpdateTerritoryRequest {
            territory_id: east.id.clone(),
            team_id: Some(org.west.id.clone()),
            ..Default::default()
        },
        pb::UpdateTerritoryRequest {
            territory_id: east.id.clone(),
            team_id: Some(String::new()),
            ..Default::default()
        },
    ];
    for request in outside {
        let refused = org.update(&org.mei, request.clone()).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{request:?}");
    }
    assert_eq!(org.get(&org.mei, &east.id).await.unwrap(), renamed);

    // Ravi reads but changes nothing.
    assert_eq!(
        org.list(&org.ravi, Default::default()).await,
        ["apac", "cn-east", "us-west"]
    );
    let refused = org
        .create(&org.ravi, "cn-south", None, Some(&org.east_1))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let refused = org
        .update(
            &org.ravi,
            pb::UpdateTerritoryRequest {
                territory_id: east.id.clone(),
                name: Some("Mine".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let refused = org
        .set_territories(&org.ravi, &org.ravi_id, &["cn-east"])
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);

    // Mei gives her rep territories of her subtree only, and has no say over West's rep.
    let ravi = org
        .set_territories(&org.mei, &org.ravi_id, &["cn-east"])
        .await
        .unwrap();
    assert_eq!(ravi.territories, ["cn-east"]);
    let refused = org
        .set_territories(&org.mei, &org.ravi_id, &["cn-east", "us-west"])
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let refused = org
        .set_territories(&org.mei, &org.wes_id, &["cn-east"])
        .await;
    assert_eq!(
        refused.unwrap_err().code(),
        Code::NotFound,
        "not hers to see"
    );
    // An admin gives any territory; Mei may still take it away from her rep.
    org.set_territories(&org.admin, &org.ravi_id, &["cn-east", "us-west"])
        .await
        .unwrap();
    let ravi = org
        .set_territories(&org.mei, &org.ravi_id, &["cn-east"])
        .await
        .unwrap();
    assert_eq!(ravi.territories, ["cn-east"]);
}

#[tokio::test]
async fn a_reps_territories_show_in_get_user_and_in_the_org_events() {
    let org = Org::start().await;
    let admin = org.admin.as_str();
    let apac = org.create(admin, "apac", None, None).await.unwrap();
    let china = org
        .create(admin, "china", Some(&apac), Some(&org.east))
        .await
        .unwrap();
    org.create(admin, "cn-east", Some(&china), Some(&org.east_1))
        .await
        .unwrap();

    // Created with a territory; then given two (codes normalised, kept in code order).
    let nora = org
        .org
        .clone()
        .create_user(authorized(
            pb::CreateUserRequest {
                email: "nora@northwind.example".into(),
                display_name: "Nora".into(),
                role: pb::Role::Rep as i32,
                team_id: org.east_1.id.clone(),
                password: PASSWORD.into(),
                territories: vec!["CN-East".into()],
                ..Default::default()
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(nora.territories, ["cn-east"]);
    let ravi = org
        .set_territories(&org.mei, &org.ravi_id, &["cn-east", " China "])
        .await
        .unwrap();
    assert_eq!(ravi.territories, ["china", "cn-east"]);
    assert_eq!(ravi.version, 2);
    let read = org
        .org
        .clone()
        .get_user(authorized(
            pb::GetUserRequest {
                user_id: org.ravi_id.clone(),
            },
            &org.ravi,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(read, ravi);
    let same = org
        .set_territories(&org.mei, &org.ravi_id, &["china", "cn-east", "china"])
        .await
        .unwrap();
    assert_eq!(same.version, 2, "the same set is no change");

    // Unknown and malformed codes are named by position; nothing is written.
    let unknown = org
        .set_territories(admin, &org.ravi_id, &["cn-east", "mars", "apac"])
        .await
        .unwrap_err();
    assert_eq!(refused_fields(&unknown), ["territories.codes[1]"]);
    let malformed = org
        .set_territories(admin, &org.ravi_id, &["cn_east"])
        .await
        .unwrap_err();
    assert_eq!(fields(&malformed), ["territories.codes[0]"]);
    let unknown_on_create = org
        .org
        .clone()
        .create_user(authorized(
            pb::CreateUserRequest {
                email: "olga@northwind.example".into(),
                display_name: "Olga".into(),
                role: pb::Role::Rep as i32,
                team_id: org.east_1.id.clone(),
                password: PASSWORD.into(),
                territories: vec!["apac".into(), "atlantis".into()],
                ..Default::default()
            },
            admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused_fields(&unknown_on_create), ["territories[1]"]);

    // Admins hold no territories: making Nora one needs her territories cleared.
    let promote = pb::UpdateUserRequest {
        user_id: nora.id.clone(),
        role: Some(pb::Role::Admin as i32),
        ..Default::default()
    };
    let refused = org
        .org
        .clone()
        .update_user(authorized(promote.clone(), admin))
        .await
        .unwrap_err();
    assert_eq!(fields(&refused), ["territories"]);
    let promoted = org
        .org
        .clone()
        .update_user(authorized(
            pb::UpdateUserRequest {
                territories: Some(pb::TerritoryCodes { codes: vec![] }),
                ..promote
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(promoted.territories.is_empty());

    // UserCreated and UserUpdated carry the territories; the change is named.
    let found = async || {
        let mut created = None;
        let mut updated = None;
        for (kind, payload) in org.events().await {
            if kind == "crm.gateway.v1.UserCreated" {
                let event: pb::UserCreated = prost::Message::decode(payload).unwrap();
                if event.user.as_ref().unwrap().id == nora.id {
                    created = event.user;
                }
            } else if kind == "crm.gateway.v1.UserUpdated" {
                let event: pb::UserUpdated = prost::Message::decode(payload).unwrap();
                if event.user.as_ref().unwrap().id == org.ravi_id {
                    updated = Some(event);
                }
            }
        }
        (created, updated)
    };
    eventually(Duration::from_secs(10), "user events published", || async {
        matches!(found().await, (Some(_), Some(_)))
    })
    .await;
    let (created, updated) = found().await;
    assert_eq!(created.unwrap().territories, ["cn-east"]);
    let updated = updated.unwrap();
    assert_eq!(updated.changed_fields, ["territories"]);
    assert_eq!(updated.user.unwrap(), ravi);
    org.drop_stream().await;
}

#[tokio::test]
async fn territories_over_the_http_front_door() {
    let org = Org::start().await;
    let http = HttpClient::new(org.app.http_url());
    let admin = Some(org.admin.as_str());
    let created = http
        .post_json(
            "/v1/territories",
            admin,
            &json!({"code": "cn-east", "name": "East China", "team_id": org.east_1.id}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.json());
    let territory = created.json()["territory"].clone();
    assert_eq!(territory["team_path"], "/northwind/east/east-1/");
    assert_eq!(territory["version"], 1);
    let id = territory["id"].as_str().unwrap().to_owned();

    let listed = http
        .get(
            &format!("/v1/territories?team_id={}", org.east.id),
            Some(&org.ravi),
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["territories"][0]["code"], "cn-east");
    let read = http
        .get(&format!("/v1/territories/{id}"), Some(&org.mei))
        .await;
    assert_eq!(read.json()["territory"], territory);

    let cycle = http
        .patch_json(
            &format!("/v1/territories/{id}"),
            admin,
            &json!({"parent_territory_id": id}),
        )
        .await;
    assert_eq!(cycle.status, 422);
    assert_eq!(
        cycle.json()["field_violations"][0]["field"],
        "parent_territory_id"
    );
    let bad = http
        .post_json(
            "/v1/territories",
            admin,
            &json!({"code": "East China", "name": "x"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field_violations"][0]["field"], "code");
    let refused = http
        .post_json(
            "/v1/territories",
            Some(&org.ravi),
            &json!({"code": "cn-south", "name": "South China", "team_id": org.east_1.id}),
        )
        .await;
    assert_eq!(refused.status, 403);

    let user = http
        .patch_json(
            &format!("/v1/users/{}", org.ravi_id),
            Some(&org.mei),
            &json!({"territories": {"codes": ["cn-east"]}, "expected_version": 1}),
        )
        .await;
    assert_eq!(user.status, 200, "{}", user.json());
    assert_eq!(user.json()["user"]["territories"], json!(["cn-east"]));
    let me = http.get("/v1/me", Some(&org.ravi)).await;
    assert_eq!(me.json()["user"]["territories"], json!(["cn-east"]));
}
