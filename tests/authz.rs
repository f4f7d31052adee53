//! The authorisation matrix (issue: "a rep sees and changes their own records, a manager their
//! team subtree, an admin everything; actions such as approving need the right role; a team move
//! re-scopes the user's records").
//!
//! One organisation is built through the gateway's real API — Ada the first admin of `/acme/`,
//! teams `/acme/east/` and `/acme/west/`, Mei managing East, Ravi and Nora reps in East, Wes a rep
//! in West — and everyone logs in for a real token. Then every cell of the tables below is run
//! by one loop and compared with its expected outcome; a failure names its cell, and every
//! failing cell is reported, not only the first.
//!
//! The tables are the policy. Who is "own", "team" and "other" for each role:
//!
//! | role    | actor | own    | team (in the actor's subtree) | other (outside it)              |
//! |---------|-------|--------|-------------------------------|---------------------------------|
//! | admin   | Ada   | Ada's  | Ravi's (East, below `/acme/`) | Wes's (West: the admin sees all) |
//! | manager | Mei   | Mei's  | Ravi's (her report)           | Wes's                           |
//! | rep     | Ravi  | Ravi's | Nora's (his teammate)         | Wes's                           |
//!
//! Calls go through a [`Transport`]: [`Grpc`], straight to each service, and [`Http`], the
//! gateway's HTTP/JSON front door, run over the same tables.
//!
//! The opportunities service's tables and their calls are in `authz/opportunities.rs`, and the
//! gateway's account 360 view's in `authz/account_views.rs`, run by the same tests.

use std::{collections::HashMap, fmt, time::Duration};

use crm_proto::crm::{
    accounts::v1::{self as accounts_pb, account_service_client::AccountServiceClient},
    common::v1::PageRequest,
    gateway::v1::{
        self as gateway_pb, account_view_service_client::AccountViewServiceClient,
        auth_service_client::AuthServiceClient, org_service_client::OrgServiceClient,
    },
    leads::v1::{
        self as leads_pb, lead_admin_service_client::LeadAdminServiceClient,
        lead_service_client::LeadServiceClient,
    },
};
use crm_test_support::{HttpClient, TestApp, authorized, eventually};
use first_admin::first_admin;
use tonic::{Code, transport::Channel};

#[path = "authz/account_views.rs"]
mod account_views;
#[path = "authz/compensation.rs"]
mod compensation;
#[path = "support/first_admin.rs"]
mod first_admin;
#[path = "authz/forecasting.rs"]
mod forecasting;
#[path = "authz/knowledge.rs"]
mod knowledge;
#[path = "authz/opportunities.rs"]
mod opportunities;

const PASSWORD: &str = "correct horse battery staple";

// ---- the tables ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    Admin,
    Manager,
    Rep,
}

/// Whose record, seen from the actor (see the module's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Rel {
    Own,
    Team,
    Other,
}

/// The record kinds of every service that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// accounts: AccountService Get/List/UpdateAccount
    Account,
    /// accounts: AccountService Get/List/UpdateContact (owned like its account)
    Contact,
    /// leads: LeadService Get/List/UpdateLead (an owned lead)
    Lead,
    /// gateway: OrgService Get/List/UpdateUser (the user record itself)
    User,
    /// opportunities: OpportunityService Get/List/UpdateOpportunity and the deal's other reads
    /// and writes (its table is in `opportunities`)
    Opportunity,
}

/// An unowned lead waiting in a pool, by where the pool is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Pool {
    /// `/acme/east/`: Mei's and Ravi's own team.
    East,
    /// `/acme/`: the company pool, above East.
    Company,
    /// `/acme/west/`.
    West,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    Refused(Code),
}

const OK: Expect = Expect::Allowed;
/// Out of reach: answered as if the record did not exist.
const NOT_FOUND: Expect = Expect::Refused(Code::NotFound);
/// Visible, or not about a record, but the role may not do it.
const DENIED: Expect = Expect::Refused(Code::PermissionDenied);

use Kind::*;
use Rel::*;
use Role::*;

/// Read = Get answers and the record appears in List; write = Update.
#[rustfmt::skip]
const RECORDS: &[(Kind, Role, Rel, Expect, Expect)] = &[
    // kind     role     record  read       write
    (Account,   Admin,   Own,    OK,        OK),
    (Account,   Admin,   Team,   OK,        OK),
    (Account,   Admin,   Other,  OK,        OK),
    (Account,   Manager, Own,    OK,        OK),
    (Account,   Manager, Team,   OK,        OK),
    (Account,   Manager, Other,  NOT_FOUND, NOT_FOUND),
    (Account,   Rep,     Own,    OK,        OK),
    (Account,   Rep,     Team,   NOT_FOUND, NOT_FOUND),
    (Account,   Rep,     Other,  NOT_FOUND, NOT_FOUND),

    (Contact,   Admin,   Own,    OK,        OK),
    (Contact,   Admin,   Team,   OK,        OK),
    (Contact,   Admin,   Other,  OK,        OK),
    (Contact,   Manager, Own,    OK,        OK),
    (Contact,   Manager, Team,   OK,        OK),
    (Contact,   Manager, Other,  NOT_FOUND, NOT_FOUND),
    (Contact,   Rep,     Own,    OK,        OK),
    (Contact,   Rep,     Team,   NOT_FOUND, NOT_FOUND),
    (Contact,   Rep,     Other,  NOT_FOUND, NOT_FOUND),

    (Lead,      Admin,   Own,    OK,        OK),
    (Lead,      Admin,   Team,   OK,        OK),
    (Lead,      Admin,   Other,  OK,        OK),
    (Lead,      Manager, Own,    OK,        OK),
    (Lead,      Manager, Team,   OK,        OK),
    (Lead,      Manager, Other,  NOT_FOUND, NOT_FOUND),
    (Lead,      Rep,     Own,    OK,        OK),
    (Lead,      Rep,     Team,   NOT_FOUND, NOT_FOUND),
    (Lead,      Rep,     Other,  NOT_FOUND, NOT_FOUND),

    // Users: reps see their own team's people; only admins, and managers for the reps in their
    // subtree, change users — nobody edits their own record (role, team, activation live there).
    (User,      Admin,   Own,    OK,        OK),
    (User,      Admin,   Team,   OK,        OK),
    (User,      Admin,   Other,  OK,        OK),
    (User,      Manager, Own,    OK,        DENIED),
    (User,      Manager, Team,   OK,        OK),
    (User,      Manager, Other,  NOT_FOUND, NOT_FOUND),
    (User,      Rep,     Own,    OK,        DENIED),
    (User,      Rep,     Team,   OK,        DENIED),
    (User,      Rep,     Other,  NOT_FOUND, NOT_FOUND),
];

/// Pool leads: everyone in the pool's team (and managers above it) sees them and may claim
/// them; only admins and the managers whose subtree holds the pool change them. Read = GetLead
/// and the lead appears in `ListLeads { in_pool }`; write = UpdateLead.
#[rustfmt::skip]
const POOLS: &[(Pool, Role, Expect, Expect)] = &[
    // pool         role     read       write
    (Pool::East,    Admin,   OK,        OK),
    (Pool::East,    Manager, OK,        OK),
    (Pool::East,    Rep,     OK,        DENIED),
    (Pool::Company, Admin,   OK,        OK),
    (Pool::Company, Manager, OK,        DENIED),
    (Pool::Company, Rep,     OK,        DENIED),
    (Pool::West,    Admin,   OK,        OK),
    (Pool::West,    Manager, NOT_FOUND, NOT_FOUND),
    (Pool::West,    Rep,     NOT_FOUND, NOT_FOUND),
];

/// Role-gated actions. Each allowed cell acts on a target made for it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// LeadService/AssignLead of a fresh lead in this pool to a rep of the pool's team (the
    /// company pool's lead to Wes, in West).
    AssignLead(Pool),
    /// LeadService/ClaimLead of a fresh lead in this pool.
    ClaimLead(Pool),
    /// LeadAdminService/UpdateLeadPolicies (the current policies, unchanged).
    UpdateLeadPolicies,
    /// LeadService/RecycleStaleLeads.
    RecycleStaleLeads,
    /// LeadAdminService/PutAssignmentRules for East or West (an empty rule list).
    PutAssignmentRules(Pool),
    /// LeadAdminService/ListReps of East or West.
    ListReps(Pool),
    /// OrgService/CreateTeam under `/acme/`.
    CreateTeam,
    /// OrgService/CreateUser: a rep in East or West, or a manager in East.
    CreateRep(Pool),
    CreateManager,
    /// AccountService/CreateAccount owned by someone else: Nora (East) or Wes (West).
    GiveAccount(Pool),
    /// LeadService/MergeLeads of fresh leads owned by these two (survivor, duplicate).
    MergeLeads(Who, Who),
    /// LeadService/UndoLeadMerge of a merge the admin made of fresh leads owned by these two.
    UndoLeadMerge(Who, Who),
    /// AccountService/SetAccountTier (override A) on a fresh account this person owns.
    SetAccountTier(Who),
    /// AccountService/GetTierSettings.
    GetTierSettings,
    /// AccountService/UpdateTierSettings (A from 1,000,000 CNY, B from 250,000 CNY).
    UpdateTierSettings,
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                   admin  manager    rep
    (Action::AssignLead(Pool::East),            OK,    OK,        DENIED),
    (Action::AssignLead(Pool::Company),         OK,    DENIED,    DENIED),
    (Action::AssignLead(Pool::West),            OK,    NOT_FOUND, DENIED),
    (Action::ClaimLead(Pool::East),             OK,    OK,        OK),
    (Action::ClaimLead(Pool::Company),          OK,    OK,        OK),
    (Action::ClaimLead(Pool::West),             OK,    NOT_FOUND, NOT_FOUND),
    (Action::UpdateLeadPolicies,                OK,    DENIED,    DENIED),
    (Action::RecycleStaleLeads,                 OK,    DENIED,    DENIED),
    (Action::PutAssignmentRules(Pool::East),    OK,    OK,        DENIED),
    (Action::PutAssignmentRules(Pool::West),    OK,    DENIED,    DENIED),
    (Action::ListReps(Pool::East),              OK,    OK,        DENIED),
    (Action::ListReps(Pool::West),              OK,    DENIED,    DENIED),
    (Action::CreateTeam,                        OK,    DENIED,    DENIED),
    (Action::CreateRep(Pool::East),             OK,    OK,        DENIED),
    (Action::CreateRep(Pool::West),             OK,    DENIED,    DENIED),
    (Action::CreateManager,                     OK,    DENIED,    DENIED),
    (Action::GiveAccount(Pool::East),           OK,    OK,        DENIED),
    (Action::GiveAccount(Pool::West),           OK,    DENIED,    DENIED),
    // Merging (and undoing it) needs the right to change both leads.
    (Action::MergeLeads(Who::Ravi, Who::Ravi),  OK,    OK,        OK),
    (Action::MergeLeads(Who::Ravi, Who::Nora),  OK,    OK,        NOT_FOUND),
    (Action::MergeLeads(Who::Ravi, Who::Wes),   OK,    NOT_FOUND, NOT_FOUND),
    (Action::UndoLeadMerge(Who::Ravi, Who::Nora), OK,  OK,        NOT_FOUND),
    (Action::UndoLeadMerge(Who::Ravi, Who::Wes),  OK,  NOT_FOUND, NOT_FOUND),
    // A manual tier needs a manager in reach (or an admin); no rep sets one, not even on
    // their own account.
    (Action::SetAccountTier(Who::Ravi),         OK,    OK,        DENIED),
    (Action::SetAccountTier(Who::Wes),          OK,    NOT_FOUND, DENIED),
    (Action::GetTierSettings,                   OK,    OK,        OK),
    (Action::UpdateTierSettings,                OK,    DENIED,    DENIED),
];

// ---- the organisation ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    Ada,
    Mei,
    Ravi,
    Nora,
    Wes,
}

impl Who {
    const ALL: [Who; 5] = [Who::Ada, Who::Mei, Who::Ravi, Who::Nora, Who::Wes];

    fn actor(role: Role) -> Who {
        match role {
            Admin => Who::Ada,
            Manager => Who::Mei,
            Rep => Who::Ravi,
        }
    }

    /// The owner of the record a cell is about.
    fn owner(role: Role, rel: Rel) -> Who {
        match (rel, role) {
            (Own, _) => Who::actor(role),
            (Team, Rep) => Who::Nora,
            (Team, _) => Who::Ravi,
            (Other, _) => Who::Wes,
        }
    }

    fn email(self) -> String {
        format!("{self:?}@acme.example").to_lowercase()
    }
}

struct Person {
    id: String,
    token: String,
}

struct Org {
    app: TestApp,
    channel: Channel,
    company: gateway_pb::Team,
    east: gateway_pb::Team,
    west: gateway_pb::Team,
    people: HashMap<Who, Person>,
    /// The account, contact, lead, user and deal each person owns (the user is themselves).
    records: HashMap<(Kind, Who), String>,
    pools: HashMap<Pool, String>,
    catalogue: opportunities::Catalogue,
}

impl Org {
    async fn build() -> Self {
        // The front door's rate limit is not what these tables are about.
        let app = TestApp::spawn_with(
            &[
                crm_gateway::module(),
                crm_accounts::module(),
                crm_leads::module(),
                crm_opportunities::module(),
                crm_forecasting::module(),
                crm_compensation::module(),
                crm_knowledge::module(),
            ],
            &crm_test_support::nats_url(),
            &[("CRM_GATEWAY_RATE_LIMIT_PER_SECOND", "0")],
        )
        .await;
        // The first admin, as `crm create-admin` makes her.
        let ada = first_admin(&app, "acme", "Acme", &Who::Ada.email(), PASSWORD).await;
        let channel = app.channel().await;
        let admin_token = login(&channel, &Who::Ada.email()).await;
        let mut org = OrgServiceClient::new(channel.clone());
        let company = org
            .list_teams(authorized(gateway_pb::ListTeamsRequest {}, &admin_token))
            .await
            .unwrap()
            .into_inner()
            .teams
            .remove(0);
        assert_eq!(company.path, "/acme/");
        let east = create_team(&channel, &admin_token, "east", &company.id)
            .await
            .unwrap();
        let west = create_team(&channel, &admin_token, "west", &company.id)
            .await
            .unwrap();

        let mut people = HashMap::from([(
            Who::Ada,
            Person {
                id: ada.id.to_string(),
                token: admin_token.clone(),
            },
        )]);
        let mei = create_user(&channel, &admin_token, &Who::Mei.email(), Manager, &east.id)
            .await
            .unwrap();
        people.insert(
            Who::Mei,
            Person {
                id: mei.id,
                token: login(&channel, &Who::Mei.email()).await,
            },
        );
        // Mei takes on her reps herself; Wes is the admin's.
        let mei_token = people[&Who::Mei].token.clone();
        for (who, creator, team) in [
            (Who::Ravi, &mei_token, &east),
            (Who::Nora, &mei_token, &east),
            (Who::Wes, &admin_token, &west),
        ] {
            let user = create_user(&channel, creator, &who.email(), Rep, &team.id)
                .await
                .unwrap();
            people.insert(
                who,
                Person {
                    id: user.id,
                    token: login(&channel, &who.email()).await,
                },
            );
        }

        let mut org = Self {
            app,
            channel,
            company,
            east,
            west,
            people,
            records: HashMap::new(),
            pools: HashMap::new(),
            catalogue: opportunities::Catalogue::default(),
        };
        for who in Who::ALL {
            org.records.insert((User, who), org.people[&who].id.clone());
            let account = org.create_account(who, None).await.unwrap();
            let contact = org.create_contact(who, &account).await;
            let lead = org.owned_lead(who).await;
            org.records.insert((Account, who), account);
            org.records.insert((Contact, who), contact);
            org.records.insert((Lead, who), lead);
        }
        opportunities::set_up(&mut org).await;
        for pool in [Pool::East, Pool::Company, Pool::West] {
            let lead = org.pool_lead(pool).await;
            org.pools.insert(pool, lead);
        }
        // Assigning needs the reps on the leads roster, which follows the org's events.
        for who in [Who::Nora, Who::Wes] {
            let id = org.people[&who].id.clone();
            let reps = || {
                let id = id.clone();
                let mut admin = LeadAdminServiceClient::new(org.channel.clone());
                let token = org.people[&Who::Ada].token.clone();
                async move {
                    admin
                        .list_reps(authorized(
                            leads_pb::ListRepsRequest {
                                team_path: "/acme/".into(),
                            },
                            &token,
                        ))
                        .await
                        .is_ok_and(|reps| reps.into_inner().reps.iter().any(|rep| rep.rep_id == id))
                }
            };
            eventually(
                Duration::from_secs(20),
                "the reps on the leads roster",
                reps,
            )
            .await;
        }
        org
    }

    fn token(&self, who: Who) -> &str {
        &self.people[&who].token
    }

    fn pool_team(&self, pool: Pool) -> &gateway_pb::Team {
        match pool {
            Pool::East => &self.east,
            Pool::Company => &self.company,
            Pool::West => &self.west,
        }
    }

    async fn create_account(&self, who: Who, owner: Option<Who>) -> Result<String, Refusal> {
        let name = format!("{who:?} Industries {}", uuid::Uuid::now_v7().simple());
        AccountServiceClient::new(self.channel.clone())
            .create_account(authorized(
                accounts_pb::CreateAccountRequest {
                    account: Some(accounts_pb::AccountInput {
                        name,
                        owner_id: owner
                            .map(|o| self.people[&o].id.clone())
                            .unwrap_or_default(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                self.token(who),
            ))
            .await
            .map(|response| response.into_inner().account.unwrap().id)
            .map_err(Refusal::from)
    }

    async fn create_contact(&self, who: Who, account_id: &str) -> String {
        AccountServiceClient::new(self.channel.clone())
            .create_contact(authorized(
                accounts_pb::CreateContactRequest {
                    contact: Some(accounts_pb::ContactInput {
                        account_id: account_id.into(),
                        full_name: format!("{who:?} Contact"),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                self.token(who),
            ))
            .await
            .unwrap()
            .into_inner()
            .contact
            .unwrap()
            .id
    }

    /// A fresh lead captured by `who`: a rep's is theirs; a manager's or admin's goes to the
    /// pool of their team.
    async fn capture(&self, who: Who) -> leads_pb::Lead {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        LeadServiceClient::new(self.channel.clone())
            .create_lead(authorized(
                leads_pb::CreateLeadRequest {
                    lead: Some(leads_pb::LeadInput {
                        first_name: format!("{who:?}"),
                        last_name: format!("Prospect {}", &unique[20..]),
                        email: format!("{unique}@prospect.example"),
                        company: format!("Prospect {unique}"),
                        ..Default::default()
                    }),
                    lead_id: String::new(),
                },
                self.token(who),
            ))
            .await
            .unwrap()
            .into_inner()
            .lead
            .unwrap()
    }

    /// A lead `who` owns: captured (and, for managers and admins, claimed from their pool).
    async fn owned_lead(&self, who: Who) -> String {
        let lead = self.capture(who).await;
        if lead.owner_id.is_empty() {
            LeadServiceClient::new(self.channel.clone())
                .claim_lead(authorized(
                    leads_pb::ClaimLeadRequest {
                        lead_id: lead.id.clone(),
                    },
                    self.token(who),
                ))
                .await
                .unwrap();
        }
        lead.id
    }

    /// A fresh unowned lead in `pool`. West has no manager: Wes captures it and the admin
    /// returns it to West's pool.
    async fn pool_lead(&self, pool: Pool) -> String {
        let lead = match pool {
            Pool::East => self.capture(Who::Mei).await,
            Pool::Company => self.capture(Who::Ada).await,
            Pool::West => {
                let lead = self.capture(Who::Wes).await;
                LeadServiceClient::new(self.channel.clone())
                    .release_lead(authorized(
                        leads_pb::ReleaseLeadRequest {
                            lead_id: lead.id.clone(),
                            reason: "back to West's pool".into(),
                        },
                        self.token(Who::Ada),
                    ))
                    .await
                    .unwrap()
                    .into_inner()
                    .lead
                    .unwrap()
            }
        };
        assert!(lead.owner_id.is_empty(), "{pool:?} lead is in the pool");
        assert_eq!(lead.pool_team_path, self.pool_team(pool).path);
        lead.id
    }

    /// The call a gated action makes, with a target made for this cell.
    async fn prepare(&self, action: Action, role: Role) -> Call {
        let cell = format!(
            "{role:?}-{}",
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        )
        .to_lowercase();
        match action {
            Action::AssignLead(pool) => Call::AssignLead {
                lead_id: self.pool_lead(pool).await,
                rep_id: self.people[&match pool {
                    Pool::East => Who::Nora,
                    Pool::Company | Pool::West => Who::Wes,
                }]
                    .id
                    .clone(),
            },
            Action::ClaimLead(pool) => Call::ClaimLead {
                lead_id: self.pool_lead(pool).await,
            },
            Action::UpdateLeadPolicies => Call::UpdateLeadPolicies(
                LeadAdminServiceClient::new(self.channel.clone())
                    .get_lead_policies(authorized(
                        leads_pb::GetLeadPoliciesRequest {},
                        self.token(Who::Ada),
                    ))
                    .await
                    .unwrap()
                    .into_inner()
                    .policies
                    .unwrap(),
            ),
            Action::RecycleStaleLeads => Call::RecycleStaleLeads,
            Action::PutAssignmentRules(pool) => Call::PutAssignmentRules {
                team_path: self.pool_team(pool).path.clone(),
            },
            Action::ListReps(pool) => Call::ListReps {
                team_path: self.pool_team(pool).path.clone(),
            },
            Action::CreateTeam => Call::CreateTeam {
                parent_id: self.company.id.clone(),
                slug: format!("team-{cell}"),
            },
            Action::CreateRep(pool) => Call::CreateUser {
                email: format!("rep-{cell}@acme.example"),
                role: gateway_pb::Role::Rep,
                team_id: self.pool_team(pool).id.clone(),
            },
            Action::CreateManager => Call::CreateUser {
                email: format!("manager-{cell}@acme.example"),
                role: gateway_pb::Role::Manager,
                team_id: self.east.id.clone(),
            },
            Action::MergeLeads(survivor, duplicate) => Call::MergeLeads {
                survivor_id: self.owned_lead(survivor).await,
                duplicate_id: self.owned_lead(duplicate).await,
            },
            Action::UndoLeadMerge(survivor, duplicate) => {
                let survivor_id = self.owned_lead(survivor).await;
                let duplicate_id = self.owned_lead(duplicate).await;
                let merge_id = LeadServiceClient::new(self.channel.clone())
                    .merge_leads(authorized(
                        leads_pb::MergeLeadsRequest {
                            survivor_id,
                            duplicate_id,
                        },
                        self.token(Who::Ada),
                    ))
                    .await
                    .unwrap()
                    .into_inner()
                    .merge_id;
                Call::UndoLeadMerge { merge_id }
            }
            Action::SetAccountTier(owner) => Call::SetAccountTier {
                account_id: self.create_account(owner, None).await.unwrap(),
            },
            Action::GetTierSettings => Call::GetTierSettings,
            Action::UpdateTierSettings => Call::UpdateTierSettings,
            Action::GiveAccount(pool) => Call::CreateAccount {
                owner_id: self.people[&match pool {
                    Pool::West => Who::Wes,
                    Pool::East | Pool::Company => Who::Nora,
                }]
                    .id
                    .clone(),
            },
        }
    }

    /// Streams are the only thing a test leaves on the shared NATS server.
    async fn clean_up(self) {
        for service in ["gateway", "accounts", "leads", "opportunities"] {
            let context = self.app.services.context(service).unwrap();
            let _ = context
                .jetstream
                .delete_stream(context.naming.stream(service))
                .await;
        }
    }
}

async fn login(channel: &Channel, email: &str) -> String {
    AuthServiceClient::new(channel.clone())
        .login(gateway_pb::LoginRequest {
            email: email.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap_or_else(|status| panic!("{email} logs in: {status}"))
        .into_inner()
        .tokens
        .unwrap()
        .access_token
}

async fn create_team(
    channel: &Channel,
    token: &str,
    slug: &str,
    parent_id: &str,
) -> Result<gateway_pb::Team, tonic::Status> {
    OrgServiceClient::new(channel.clone())
        .create_team(authorized(
            gateway_pb::CreateTeamRequest {
                slug: slug.into(),
                name: slug.to_uppercase(),
                parent_team_id: parent_id.into(),
            },
            token,
        ))
        .await
        .map(|response| response.into_inner().team.unwrap())
}

async fn create_user(
    channel: &Channel,
    token: &str,
    email: &str,
    role: Role,
    team_id: &str,
) -> Result<gateway_pb::User, tonic::Status> {
    OrgServiceClient::new(channel.clone())
        .create_user(authorized(
            gateway_pb::CreateUserRequest {
                email: email.into(),
                display_name: email.split('@').next().unwrap_or_default().into(),
                role: match role {
                    Admin => gateway_pb::Role::Admin,
                    Manager => gateway_pb::Role::Manager,
                    Rep => gateway_pb::Role::Rep,
                } as i32,
                team_id: team_id.into(),
                password: PASSWORD.into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|response| response.into_inner().user.unwrap())
}

// ---- transports ----

/// One call of a cell, independent of the wire it travels over.
#[derive(Clone, Debug)]
enum Call {
    Get {
        kind: Kind,
        id: String,
    },
    /// Answers the ids listed (first page of 500).
    List {
        kind: Kind,
    },
    /// `ListLeads { in_pool: true }`.
    ListPool,
    Update {
        kind: Kind,
        id: String,
    },
    AssignLead {
        lead_id: String,
        rep_id: String,
    },
    ClaimLead {
        lead_id: String,
    },
    UpdateLeadPolicies(leads_pb::LeadPolicies),
    RecycleStaleLeads,
    PutAssignmentRules {
        team_path: String,
    },
    ListReps {
        team_path: String,
    },
    CreateTeam {
        parent_id: String,
        slug: String,
    },
    CreateUser {
        email: String,
        role: gateway_pb::Role,
        team_id: String,
    },
    CreateAccount {
        owner_id: String,
    },
    MergeLeads {
        survivor_id: String,
        duplicate_id: String,
    },
    UndoLeadMerge {
        merge_id: String,
    },
    SetAccountTier {
        account_id: String,
    },
    GetTierSettings,
    UpdateTierSettings,
    Opportunities(opportunities::Call),
    Forecasting(forecasting::Call),
    Compensation(compensation::Call),
    Knowledge(knowledge::Call),
    /// AccountViewService/GetAccount360; answers the ids of the view's contacts and deals.
    AccountView {
        account_id: String,
    },
}

/// The request of [`Call::Update`] of an account: a new industry.
fn update_account(account_id: String) -> accounts_pb::UpdateAccountRequest {
    accounts_pb::UpdateAccountRequest {
        account_id,
        patch: Some(accounts_pb::AccountPatch {
            industry: Some("Manufacturing".into()),
            ..Default::default()
        }),
        expected_version: 0,
    }
}

/// The request of [`Call::Update`] of a contact: a new title.
fn update_contact(contact_id: String) -> accounts_pb::UpdateContactRequest {
    accounts_pb::UpdateContactRequest {
        contact_id,
        patch: Some(accounts_pb::ContactPatch {
            title: Some("Buyer".into()),
            ..Default::default()
        }),
        expected_version: 0,
    }
}

/// The request of [`Call::Update`] of a lead: a new title.
fn update_lead(lead_id: String) -> leads_pb::UpdateLeadRequest {
    leads_pb::UpdateLeadRequest {
        lead_id,
        patch: Some(leads_pb::LeadPatch {
            title: Some("Head of Purchasing".into()),
            ..Default::default()
        }),
        expected_version: 0,
    }
}

/// The request of [`Call::Update`] of a user: a new display name each time.
fn update_user(user_id: String) -> gateway_pb::UpdateUserRequest {
    gateway_pb::UpdateUserRequest {
        user_id,
        display_name: Some(format!("Renamed {}", uuid::Uuid::now_v7())),
        ..Default::default()
    }
}

/// The request of [`Call::CreateTeam`].
fn new_team(parent_team_id: String, slug: String) -> gateway_pb::CreateTeamRequest {
    gateway_pb::CreateTeamRequest {
        name: slug.clone(),
        slug,
        parent_team_id,
    }
}

/// The request of [`Call::CreateUser`].
fn new_user(
    email: String,
    role: gateway_pb::Role,
    team_id: String,
) -> gateway_pb::CreateUserRequest {
    gateway_pb::CreateUserRequest {
        display_name: email.clone(),
        email,
        role: role as i32,
        team_id,
        password: PASSWORD.into(),
        ..Default::default()
    }
}

/// The request of [`Call::CreateAccount`]: a fresh account given to `owner_id`.
fn given_account(owner_id: String) -> accounts_pb::CreateAccountRequest {
    accounts_pb::CreateAccountRequest {
        account: Some(accounts_pb::AccountInput {
            name: format!("Given {}", uuid::Uuid::now_v7().simple()),
            owner_id,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The request of [`Call::SetAccountTier`].
fn set_account_tier(account_id: String) -> accounts_pb::SetAccountTierRequest {
    accounts_pb::SetAccountTierRequest {
        account_id,
        tier_override: accounts_pb::AccountTier::A as i32,
        expected_version: 0,
    }
}

/// The request of [`Call::UpdateTierSettings`].
fn update_tier_settings() -> accounts_pb::UpdateTierSettingsRequest {
    let cny = |amount: &str| crm_proto::crm::common::v1::Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    };
    accounts_pb::UpdateTierSettingsRequest {
        a_threshold: Some(cny("1000000")),
        b_threshold: Some(cny("250000")),
        expected_version: 0,
    }
}

/// A refused call: the code is what the cell is judged by, the message is for the report.
#[derive(Clone, Debug)]
struct Refusal {
    code: Code,
    message: String,
}

impl From<tonic::Status> for Refusal {
    fn from(status: tonic::Status) -> Self {
        Self {
            code: status.code(),
            message: status.message().to_owned(),
        }
    }
}

/// How cells reach the services. A call answers the ids it listed (empty for other calls).
trait Transport {
    fn name(&self) -> &'static str;
    async fn call(&self, token: &str, call: Call) -> Result<Vec<String>, Refusal>;
}

/// Straight to each service's gRPC API, as an internal team would call it.
struct Grpc {
    accounts: AccountServiceClient<Channel>,
    leads: LeadServiceClient<Channel>,
    lead_admin: LeadAdminServiceClient<Channel>,
    org: OrgServiceClient<Channel>,
    opportunities: opportunities::Clients,
    views: AccountViewServiceClient<Channel>,
    /// For the forecasting families, whose clients are made per call.
    channel: Channel,
}

impl Grpc {
    fn new(channel: &Channel) -> Self {
        Self {
            accounts: AccountServiceClient::new(channel.clone()),
            leads: LeadServiceClient::new(channel.clone()),
            lead_admin: LeadAdminServiceClient::new(channel.clone()),
            org: OrgServiceClient::new(channel.clone()),
            opportunities: opportunities::Clients::new(channel),
            views: AccountViewServiceClient::new(channel.clone()),
            channel: channel.clone(),
        }
    }

    async fn deals(&self, token: &str, call: opportunities::Call) -> Result<Vec<String>, Refusal> {
        opportunities::grpc(&self.opportunities, token, call).await
    }
}

/// What a call that lists nothing answers.
fn no_ids<T>(_: T) -> Vec<String> {
    Vec::new()
}

fn page() -> Option<PageRequest> {
    Some(PageRequest {
        page_size: 500,
        page_token: String::new(),
    })
}

impl Transport for Grpc {
    fn name(&self) -> &'static str {
        "gRPC"
    }

    async fn call(&self, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
        let (mut accounts, mut leads, mut lead_admin, mut org) = (
            self.accounts.clone(),
            self.leads.clone(),
            self.lead_admin.clone(),
            self.org.clone(),
        );
        let ids: Vec<String> = match call {
            Call::Get { kind, id } => match kind {
                Account => accounts
                    .get_account(authorized(
                        accounts_pb::GetAccountRequest { account_id: id },
                        token,
                    ))
                    .await
                    .map(no_ids)?,
                Contact => accounts
                    .get_contact(authorized(
                        accounts_pb::GetContactRequest { contact_id: id },
                        token,
                    ))
                    .await
                    .map(no_ids)?,
                Lead => leads
                    .get_lead(authorized(leads_pb::GetLeadRequest { lead_id: id }, token))
                    .await
                    .map(no_ids)?,
                User => org
                    .get_user(authorized(
                        gateway_pb::GetUserRequest { user_id: id },
                        token,
                    ))
                    .await
                    .map(no_ids)?,
                Opportunity => self.deals(token, opportunities::get(id)).await?,
            },
            Call::List { kind } => match kind {
                Account => accounts
                    .list_accounts(authorized(
                        accounts_pb::ListAccountsRequest {
                            page: page(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await?
                    .into_inner()
                    .accounts
                    .into_iter()
                    .map(|record| record.id)
                    .collect(),
                Contact => accounts
                    .list_contacts(authorized(
                        accounts_pb::ListContactsRequest {
                            page: page(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await?
                    .into_inner()
                    .contacts
                    .into_iter()
                    .map(|record| record.id)
                    .collect(),
                Lead => leads
                    .list_leads(authorized(
                        leads_pb::ListLeadsRequest {
                            page: page(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await?
                    .into_inner()
                    .leads
                    .into_iter()
                    .map(|record| record.id)
                    .collect(),
                User => org
                    .list_users(authorized(gateway_pb::ListUsersRequest::default(), token))
                    .await?
                    .into_inner()
                    .users
                    .into_iter()
                    .map(|record| record.id)
                    .collect(),
                Opportunity => {
                    self.deals(token, opportunities::Call::ListOpportunities)
                        .await?
                }
            },
            Call::ListPool => leads
                .list_leads(authorized(
                    leads_pb::ListLeadsRequest {
                        page: page(),
                        in_pool: true,
                        ..Default::default()
                    },
                    token,
                ))
                .await?
                .into_inner()
                .leads
                .into_iter()
                .map(|record| record.id)
                .collect(),
            Call::Update { kind, id } => match kind {
                Account => accounts
                    .update_account(authorized(update_account(id), token))
                    .await
                    .map(no_ids)?,
                Contact => accounts
                    .update_contact(authorized(update_contact(id), token))
                    .await
                    .map(no_ids)?,
                Lead => leads
                    .update_lead(authorized(update_lead(id), token))
                    .await
                    .map(no_ids)?,
                User => org
                    .update_user(authorized(update_user(id), token))
                    .await
                    .map(no_ids)?,
                Opportunity => self.deals(token, opportunities::update(id)).await?,
            },
            Call::AssignLead { lead_id, rep_id } => leads
                .assign_lead(authorized(
                    leads_pb::AssignLeadRequest { lead_id, rep_id },
                    token,
                ))
                .await
                .map(no_ids)?,
            Call::MergeLeads {
                survivor_id,
                duplicate_id,
            } => leads
                .merge_leads(authorized(
                    leads_pb::MergeLeadsRequest {
                        survivor_id,
                        duplicate_id,
                    },
                    token,
                ))
                .await
                .map(no_ids)?,
            Call::UndoLeadMerge { merge_id } => leads
                .undo_lead_merge(authorized(
                    leads_pb::UndoLeadMergeRequest { merge_id },
                    token,
                ))
                .await
                .map(no_ids)?,
            Call::ClaimLead { lead_id } => leads
                .claim_lead(authorized(leads_pb::ClaimLeadRequest { lead_id }, token))
                .await
                .map(no_ids)?,
            Call::UpdateLeadPolicies(policies) => lead_admin
                .update_lead_policies(authorized(
                    leads_pb::UpdateLeadPoliciesRequest {
                        policies: Some(policies),
                    },
                    token,
                ))
                .await
                .map(no_ids)?,
            Call::RecycleStaleLeads => leads
                .recycle_stale_leads(authorized(leads_pb::RecycleStaleLeadsRequest {}, token))
                .await
                .map(no_ids)?,
            Call::PutAssignmentRules { team_path } => lead_admin
                .put_assignment_rules(authorized(
                    leads_pb::PutAssignmentRulesRequest {
                        team_path,
                        rules: Vec::new(),
                    },
                    token,
                ))
                .await
                .map(no_ids)?,
            Call::ListReps { team_path } => lead_admin
                .list_reps(authorized(leads_pb::ListRepsRequest { team_path }, token))
                .await
                .map(no_ids)?,
            Call::CreateTeam { parent_id, slug } => org
                .create_team(authorized(new_team(parent_id, slug), token))
                .await
                .map(no_ids)?,
            Call::CreateUser {
                email,
                role,
                team_id,
            } => org
                .create_user(authorized(new_user(email, role, team_id), token))
                .await
                .map(no_ids)?,
            Call::CreateAccount { owner_id } => accounts
                .create_account(authorized(given_account(owner_id), token))
                .await
                .map(no_ids)?,
            Call::SetAccountTier { account_id } => accounts
                .set_account_tier(authorized(set_account_tier(account_id), token))
                .await
                .map(no_ids)?,
            Call::GetTierSettings => accounts
                .get_tier_settings(authorized(accounts_pb::GetTierSettingsRequest {}, token))
                .await
                .map(no_ids)?,
            Call::UpdateTierSettings => accounts
                .update_tier_settings(authorized(update_tier_settings(), token))
                .await
                .map(no_ids)?,
            Call::Opportunities(call) => self.deals(token, call).await?,
            Call::Forecasting(call) => forecasting::grpc(&self.channel, token, call).await?,
            Call::Compensation(call) => compensation::grpc(&self.channel, token, call).await?,
            Call::Knowledge(call) => knowledge::grpc(&self.channel, token, call).await?,
            Call::AccountView { account_id } => {
                account_views::grpc(&self.views, token, account_id).await?
            }
        };
        Ok(ids)
    }
}

/// Through the gateway's HTTP/JSON front door, as a web client or integration would call it:
/// the same requests, sent as JSON to the REST routes, answered by the same services.
struct Http {
    client: HttpClient,
    descriptors: prost_reflect::DescriptorPool,
}

impl Http {
    fn new(org: &Org) -> Self {
        Self {
            client: HttpClient::new(org.app.http_url()),
            descriptors: prost_reflect::DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET)
                .expect("descriptor set"),
        }
    }

    /// A request message as the JSON body the front door takes.
    fn json<M: prost::Message + prost::Name>(&self, message: &M) -> Vec<u8> {
        let descriptor = self
            .descriptors
            .get_message_by_name(&M::full_name())
            .expect("a CRM message");
        let dynamic =
            prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
                .expect("decodes");
        serde_json::to_vec(&dynamic).expect("serialises")
    }

    async fn send(
        &self,
        method: http::Method,
        path: &str,
        token: &str,
        body: Option<Vec<u8>>,
    ) -> Result<serde_json::Value, Refusal> {
        let reply = self.client.send(method, path, Some(token), &[], body).await;
        if reply.status == 200 {
            // A document (a `google.api.HttpBody` reply, a statement's HTML) is not JSON:
            // there are no ids to read from it.
            return Ok(serde_json::from_slice(&reply.body).unwrap_or_default());
        }
        let json = reply.json();
        Err(Refusal {
            code: code_named(json["code"].as_str().unwrap_or_default()),
            message: format!("HTTP {}: {}", reply.status, json["detail"]),
        })
    }

    /// The `id`s of a list response's records, under `field`.
    async fn list(&self, path: &str, token: &str, field: &str) -> Result<Vec<String>, Refusal> {
        self.list_by(path, token, field, "id").await
    }

    /// The `key`s of a list response's records, under `field`.
    async fn list_by(
        &self,
        path: &str,
        token: &str,
        field: &str,
        key: &str,
    ) -> Result<Vec<String>, Refusal> {
        let json = self.send(http::Method::GET, path, token, None).await?;
        Ok(json[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|record| Some(record[key].as_str()?.to_owned()))
            .collect())
    }
}

/// The gRPC code a problem document names (`NOT_FOUND`).
fn code_named(name: &str) -> Code {
    (0..=16)
        .map(Code::from_i32)
        .find(|code| crm_gateway::http::problem::code_name(*code) == name)
        .unwrap_or(Code::Unknown)
}

impl Transport for Http {
    fn name(&self) -> &'static str {
        "HTTP"
    }

    async fn call(&self, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
        use http::Method;
        let none = Vec::new;
        Ok(match call {
            Call::Get { kind, id } => {
                let path = match kind {
                    Account => format!("/v1/accounts/{id}"),
                    Contact => format!("/v1/contacts/{id}"),
                    Lead => format!("/v1/leads/{id}"),
                    User => format!("/v1/users/{id}"),
                    Opportunity => {
                        return opportunities::http(self, token, opportunities::get(id)).await;
                    }
                };
                self.send(Method::GET, &path, token, None).await?;
                none()
            }
            Call::List { kind } => match kind {
                Account => {
                    self.list("/v1/accounts?page.page_size=500", token, "accounts")
                        .await?
                }
                Contact => {
                    self.list("/v1/contacts?page.page_size=500", token, "contacts")
                        .await?
                }
                Lead => {
                    self.list("/v1/leads?page.page_size=500", token, "leads")
                        .await?
                }
                User => self.list("/v1/users", token, "users").await?,
                Opportunity => {
                    let call = opportunities::Call::ListOpportunities;
                    opportunities::http(self, token, call).await?
                }
            },
            Call::ListPool => {
                self.list("/v1/leads?page.page_size=500&in_pool=true", token, "leads")
                    .await?
            }
            Call::Update { kind, id } => {
                let (path, body) = match kind {
                    Account => (format!("/v1/accounts/{id}"), self.json(&update_account(id))),
                    Contact => (format!("/v1/contacts/{id}"), self.json(&update_contact(id))),
                    Lead => (format!("/v1/leads/{id}"), self.json(&update_lead(id))),
                    User => (format!("/v1/users/{id}"), self.json(&update_user(id))),
                    Opportunity => {
                        return opportunities::http(self, token, opportunities::update(id)).await;
                    }
                };
                self.send(Method::PATCH, &path, token, Some(body)).await?;
                none()
            }
            Call::AssignLead { lead_id, rep_id } => {
                let body = self.json(&leads_pb::AssignLeadRequest {
                    lead_id: lead_id.clone(),
                    rep_id,
                });
                let path = format!("/v1/leads/{lead_id}:assign");
                self.send(Method::POST, &path, token, Some(body)).await?;
                none()
            }
            Call::MergeLeads {
                survivor_id,
                duplicate_id,
            } => {
                let body = self.json(&leads_pb::MergeLeadsRequest {
                    survivor_id: survivor_id.clone(),
                    duplicate_id,
                });
                let path = format!("/v1/leads/{survivor_id}:merge");
                self.send(Method::POST, &path, token, Some(body)).await?;
                none()
            }
            Call::UndoLeadMerge { merge_id } => {
                let path = format!("/v1/leadMerges/{merge_id}:undo");
                self.send(Method::POST, &path, token, None).await?;
                none()
            }
            Call::ClaimLead { lead_id } => {
                let path = format!("/v1/leads/{lead_id}:claim");
                self.send(Method::POST, &path, token, None).await?;
                none()
            }
            Call::UpdateLeadPolicies(policies) => {
                let body = self.json(&leads_pb::UpdateLeadPoliciesRequest {
                    policies: Some(policies),
                });
                self.send(Method::PUT, "/v1/leadPolicies", token, Some(body))
                    .await?;
                none()
            }
            Call::RecycleStaleLeads => {
                self.send(Method::POST, "/v1/leads:recycleStale", token, None)
                    .await?;
                none()
            }
            Call::PutAssignmentRules { team_path } => {
                let body = self.json(&leads_pb::PutAssignmentRulesRequest {
                    team_path,
                    rules: Vec::new(),
                });
                self.send(Method::PUT, "/v1/assignmentRules", token, Some(body))
                    .await?;
                none()
            }
            Call::ListReps { team_path } => {
                let path = format!("/v1/leadReps?team_path={}", team_path.replace('/', "%2F"));
                self.send(Method::GET, &path, token, None).await?;
                none()
            }
            Call::CreateTeam { parent_id, slug } => {
                let body = self.json(&new_team(parent_id, slug));
                self.send(Method::POST, "/v1/teams", token, Some(body))
                    .await?;
                none()
            }
            Call::CreateUser {
                email,
                role,
                team_id,
            } => {
                let body = self.json(&new_user(email, role, team_id));
                self.send(Method::POST, "/v1/users", token, Some(body))
                    .await?;
                none()
            }
            Call::CreateAccount { owner_id } => {
                let body = self.json(&given_account(owner_id));
                self.send(Method::POST, "/v1/accounts", token, Some(body))
                    .await?;
                none()
            }
            Call::SetAccountTier { account_id } => {
                let path = format!("/v1/accounts/{account_id}:setTier");
                let body = self.json(&set_account_tier(account_id));
                self.send(Method::POST, &path, token, Some(body)).await?;
                none()
            }
            Call::GetTierSettings => {
                self.send(Method::GET, "/v1/tierSettings", token, None)
                    .await?;
                none()
            }
            Call::UpdateTierSettings => {
                let body = self.json(&update_tier_settings());
                self.send(Method::PUT, "/v1/tierSettings", token, Some(body))
                    .await?;
                none()
            }
            Call::Opportunities(call) => opportunities::http(self, token, call).await?,
            Call::Forecasting(call) => forecasting::http(self, token, call).await?,
            Call::Compensation(call) => compensation::http(self, token, call).await?,
            Call::Knowledge(call) => knowledge::http(self, token, call).await?,
            Call::AccountView { account_id } => {
                account_views::http(self, token, account_id).await?
            }
        })
    }
}

// ---- the runner ----

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Allowed => f.write_str("OK"),
            Expect::Refused(code) => write!(f, "{code:?}"),
        }
    }
}

/// Collects the cells that did not come out as the table says.
struct Report {
    transport: &'static str,
    cells: usize,
    failures: Vec<String>,
}

impl Report {
    fn new(transport: &'static str) -> Self {
        Self {
            transport,
            cells: 0,
            failures: Vec::new(),
        }
    }

    fn check(&mut self, cell: &str, expected: Expect, outcome: &Result<Vec<String>, Refusal>) {
        self.cells += 1;
        let actual = match outcome {
            Ok(_) => Expect::Allowed,
            Err(refusal) => Expect::Refused(refusal.code),
        };
        if actual != expected {
            let detail = match outcome {
                Err(refusal) => format!(" ({})", refusal.message),
                Ok(_) => String::new(),
            };
            self.failures.push(format!(
                "[{}] {cell}: expected {expected}, got {actual}{detail}",
                self.transport
            ));
        }
    }

    /// A listing must show the record exactly when the cell is readable.
    fn check_listed(
        &mut self,
        cell: &str,
        expected: Expect,
        listed: &Result<Vec<String>, Refusal>,
        id: &str,
    ) {
        self.cells += 1;
        match listed {
            Err(refusal) => self.failures.push(format!(
                "[{}] {cell}: listing failed with {:?} ({})",
                self.transport, refusal.code, refusal.message
            )),
            Ok(ids) => {
                let shown = ids.iter().any(|listed| listed == id);
                if shown != (expected == OK) {
                    self.failures.push(format!(
                        "[{}] {cell}: expected the record {} the listing",
                        self.transport,
                        if expected == OK { "in" } else { "absent from" }
                    ));
                }
            }
        }
    }

    fn assert_clean(self) {
        assert!(self.cells > 0, "no cell ran over {}", self.transport);
        assert!(
            self.failures.is_empty(),
            "{} of {} cells failed:\n{}",
            self.failures.len(),
            self.cells,
            self.failures.join("\n")
        );
    }
}

/// One record seen by one caller: read (Get, and the record in List) and write (Update).
#[allow(clippy::too_many_arguments)]
async fn check_record<T: Transport>(
    transport: &T,
    report: &mut Report,
    cell: &str,
    token: &str,
    kind: Kind,
    id: &str,
    read: Expect,
    write: Expect,
) {
    let got = transport
        .call(
            token,
            Call::Get {
                kind,
                id: id.into(),
            },
        )
        .await;
    report.check(&format!("{cell} × read (Get)"), read, &got);
    let listed = transport.call(token, Call::List { kind }).await;
    report.check_listed(&format!("{cell} × read (List)"), read, &listed, id);
    let updated = transport
        .call(
            token,
            Call::Update {
                kind,
                id: id.into(),
            },
        )
        .await;
    report.check(&format!("{cell} × write (Update)"), write, &updated);
}

async fn run_records<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    for &(kind, role, rel, read, write) in RECORDS {
        let token = org.token(Who::actor(role));
        let id = &org.records[&(kind, Who::owner(role, rel))];
        let cell = format!("{kind:?} | {role:?} × {rel:?}");
        check_record(transport, report, &cell, token, kind, id, read, write).await;
    }
}

async fn run_pools<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    for &(pool, role, read, write) in POOLS {
        let actor = org.token(Who::actor(role));
        let id = org.pools[&pool].clone();
        let cell = format!("pool lead in {pool:?} | {role:?}");
        let got = transport
            .call(
                actor,
                Call::Get {
                    kind: Lead,
                    id: id.clone(),
                },
            )
            .await;
        report.check(&format!("{cell} × read (GetLead)"), read, &got);
        let listed = transport.call(actor, Call::ListPool).await;
        report.check_listed(
            &format!("{cell} × read (ListLeads in_pool)"),
            read,
            &listed,
            &id,
        );
        let updated = transport.call(actor, Call::Update { kind: Lead, id }).await;
        report.check(&format!("{cell} × write (UpdateLead)"), write, &updated);
    }
}

async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, role| {
        (org.prepare(action, role).await, None)
    })
    .await;
}

/// Runs a table of role-gated actions, a cell per role: every cell's target made first, so no
/// cell's effect (a claim, a reassignment, a completion) can reach another's; then each call by
/// the role's actor. `prepare` answers a cell's call and, for a listing, the id the listing must
/// show exactly when the cell is readable.
async fn run_table<A, T>(
    org: &Org,
    transport: &T,
    report: &mut Report,
    table: &[(A, Expect, Expect, Expect)],
    prepare: impl AsyncFn(A, Role) -> (Call, Option<String>),
) where
    A: Copy + fmt::Debug,
    T: Transport,
{
    let mut cells = Vec::new();
    for &(action, admin, manager, rep) in table {
        for (role, expected) in [(Admin, admin), (Manager, manager), (Rep, rep)] {
            cells.push((action, role, expected, prepare(action, role).await));
        }
    }
    for (action, role, expected, (call, listed)) in cells {
        let outcome = transport.call(org.token(Who::actor(role)), call).await;
        let cell = format!("{action:?} | {role:?}");
        match listed {
            Some(id) => report.check_listed(&cell, expected, &outcome, &id),
            None => report.check(&cell, expected, &outcome),
        }
    }
}

// ---- the tests ----

/// The record and pool tables over one transport.
async fn check_records<T: Transport>(connect: impl FnOnce(&Org) -> T) {
    let org = Org::build().await;
    let transport = connect(&org);
    let mut report = Report::new(transport.name());
    run_records(&org, &transport, &mut report).await;
    run_pools(&org, &transport, &mut report).await;
    opportunities::run_records(&org, &transport, &mut report).await;
    account_views::run_records(&org, &transport, &mut report).await;
    org.clean_up().await;
    report.assert_clean();
}

/// The role-gated actions over one transport.
async fn check_actions<T: Transport>(connect: impl FnOnce(&Org) -> T) {
    let org = Org::build().await;
    let transport = connect(&org);
    let mut report = Report::new(transport.name());
    run_actions(&org, &transport, &mut report).await;
    opportunities::run_actions(&org, &transport, &mut report).await;
    forecasting::run_actions(&org, &transport, &mut report).await;
    compensation::run_actions(&org, &transport, &mut report).await;
    knowledge::run_actions(&org, &transport, &mut report).await;
    org.clean_up().await;
    report.assert_clean();
}

#[tokio::test]
async fn every_role_reads_and_writes_exactly_its_records_in_every_service() {
    check_records(|org| Grpc::new(&org.channel)).await;
}

/// The same table through the gateway's HTTP/JSON front door: the services apply the same
/// rules whichever door a call comes in by.
#[tokio::test]
async fn every_role_reads_and_writes_exactly_its_records_over_http_too() {
    check_records(Http::new).await;
}

#[tokio::test]
async fn role_gated_actions_need_the_right_role_and_reach() {
    check_actions(|org| Grpc::new(&org.channel)).await;
}

#[tokio::test]
async fn role_gated_actions_need_the_right_role_and_reach_over_http_too() {
    check_actions(Http::new).await;
}

/// Moving Ravi from East to West re-scopes his account, contact, lead and deal (the services
/// learn of the move from the gateway's events): East's manager loses them, West's manager gains
/// them.
#[tokio::test]
async fn a_team_move_re_scopes_the_users_records() {
    let org = Org::build().await;
    let grpc = Grpc::new(&org.channel);
    let admin = org.token(Who::Ada);
    create_user(
        &org.channel,
        admin,
        "will@acme.example",
        Manager,
        &org.west.id,
    )
    .await
    .unwrap();
    let will = login(&org.channel, "will@acme.example").await;
    OrgServiceClient::new(org.channel.clone())
        .update_user(authorized(
            gateway_pb::UpdateUserRequest {
                user_id: org.people[&Who::Ravi].id.clone(),
                team_id: Some(org.west.id.clone()),
                ..Default::default()
            },
            admin,
        ))
        .await
        .unwrap();
    for kind in [Account, Contact, Lead, Opportunity] {
        let id = org.records[&(kind, Who::Ravi)].clone();
        let what = format!("Ravi's {kind:?} in West's reach");
        eventually(Duration::from_secs(20), &what, || {
            let call = Call::Get {
                kind,
                id: id.clone(),
            };
            let (grpc, will) = (&grpc, &will);
            async move { grpc.call(will, call).await.is_ok() }
        })
        .await;
    }

    // Ravi's records after the move, by who looks at them.
    let (mei, nora, ravi) = (
        org.token(Who::Mei),
        org.token(Who::Nora),
        org.token(Who::Ravi),
    );
    #[rustfmt::skip]
    let after: &[(&str, &str, Kind, Expect, Expect)] = &[
        // viewer              token  kind         read       write
        ("Mei, East manager",  mei,   Account,     NOT_FOUND, NOT_FOUND),
        ("Mei, East manager",  mei,   Contact,     NOT_FOUND, NOT_FOUND),
        ("Mei, East manager",  mei,   Lead,        NOT_FOUND, NOT_FOUND),
        ("Mei, East manager",  mei,   User,        NOT_FOUND, NOT_FOUND),
        ("Mei, East manager",  mei,   Opportunity, NOT_FOUND, NOT_FOUND),
        ("Will, West manager", &will, Account,     OK,        OK),
        ("Will, West manager", &will, Contact,     OK,        OK),
        ("Will, West manager", &will, Lead,        OK,        OK),
        ("Will, West manager", &will, User,        OK,        OK),
        ("Will, West manager", &will, Opportunity, OK,        OK),
        ("Nora, East rep",     nora,  User,        NOT_FOUND, NOT_FOUND),
        ("Ravi himself",       ravi,  Account,     OK,        OK),
        ("Ravi himself",       ravi,  Lead,        OK,        OK),
        ("Ravi himself",       ravi,  Opportunity, OK,        OK),
        ("Ada, admin",         admin, Account,     OK,        OK),
    ];
    let mut report = Report::new(grpc.name());
    for &(viewer, token, kind, read, write) in after {
        let id = &org.records[&(kind, Who::Ravi)];
        let cell = format!("{kind:?} | Ravi's, moved to West, seen by {viewer}");
        check_record(&grpc, &mut report, &cell, token, kind, id, read, write).await;
    }
    org.clean_up().await;
    report.assert_clean();
}
