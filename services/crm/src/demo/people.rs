//! The cast as people who sign in: Omar (head of sales), Mei, Ravi, Nora and Wes become
//! gateway users with the ids their tokens carry (`CreateUser` with a chosen `user_id`, so a second run returns them as
//! they are), their email, their start date — Nora joined last month, so she is "new" and gets
//! the onboarding track and her ramp — and the demo password, which the console's sign-in
//! page and `deploy/local/run` print. Ada stays a token identity: an admin in the gateway
//! would make `crm create-admin` refuse to create the organisation's real first admin.

use anyhow::Context;
use chrono::{Duration, Utc};
use crm_platform::auth::TeamPath;
use crm_proto::crm::gateway::v1::{
    CreateUserRequest, ListTeamsRequest, org_service_client::OrgServiceClient,
};

use super::{ADA, Api, MEI, Member, NORA, OMAR, RAVI, WES, failed};

/// Every demo user's password (the demo is for trying the suite out, never for real data).
pub(super) const DEMO_PASSWORD: &str = "northwind-demo-2026";

/// Who signs in, with their email and how many days ago they started.
pub(super) const PEOPLE: &[(Member, &str, i64)] = &[
    (OMAR, "omar@northwind.example", 8 * 365),
    (MEI, "mei@northwind.example", 5 * 365),
    (RAVI, "ravi@northwind.example", 3 * 365),
    (NORA, "nora@northwind.example", 30),
    (WES, "wes@northwind.example", 2 * 365),
];

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut org = OrgServiceClient::new(api.channel());
    let teams = org
        .list_teams(api.as_member(&ADA, ListTeamsRequest {}))
        .await
        .map_err(failed("teams"))?
        .into_inner()
        .teams;
    let today = Utc::now().date_naive();
    for (member, email, days) in PEOPLE {
        let path = member.team_path();
        let team = teams
            .iter()
            .find(|team| TeamPath::parse(&team.path).is_ok_and(|known| known == path))
            .with_context(|| format!("the team {} of {} exists", member.team, member.name))?;
        let created = org
            .create_user(api.as_member(
                &ADA,
                CreateUserRequest {
                    user_id: member.user_id().to_string(),
                    email: (*email).to_owned(),
                    display_name: member.name.to_owned(),
                    role: crm_gateway::role_to_wire(member.role) as i32,
                    team_id: team.id.clone(),
                    password: DEMO_PASSWORD.to_owned(),
                    started_on: (today - Duration::days(*days)).to_string(),
                    ..Default::default()
                },
            ))
            .await;
        match created {
            Ok(_) => {}
            // Someone made a user of that email already: theirs is kept.
            Err(status) if status.code() == tonic::Code::AlreadyExists => {
                eprintln!(
                    "demo: {email} exists as another user; {} cannot sign in",
                    member.name
                );
            }
            Err(status) => return Err(failed(format!("user {email}"))(status)),
        }
    }
    Ok(())
}
