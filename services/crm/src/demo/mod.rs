//! The demo data set: Northwind Industrial (the sales story tests/scenario.rs follows) — the team tree, the
//! organisation's default calling code (86, China), its corporate currency (CNY) and the US
//! dollar and euro rates, accounts and contacts, the reps on the leads roster, the
//! East-territory assignment rule, the Spring Expo campaign and leads from the API, the campaign
//! and a web form; the price book (products and yuan, dollar and euro list prices, dated); the
//! sales process (Direct's Qualify exit criteria, a "Service contracts" pipeline, the
//! competitors), the reps' live deals — the scenario's "Contoso — Line 3
//! automation" with its buying committee and Globex — and two years of won, lost and open deals
//! for the funnel and forecasts to learn from.
//!
//! Everything goes in as a client's data would: gRPC calls to the services' public APIs, made
//! in process through [`LocalGrpc`] (the same routes, layers and token check as the network
//! server), each with a bearer token of the demo user making it, signed with the configured
//! development key as `crm dev-token` signs. So validation, dedupe, access rules and events
//! apply to demo data exactly as to anyone's, and nothing here knows a service's internals.
//! Where one service learns from another's events (the opportunities service hears of accounts,
//! contacts, the currency and rates that way), the demo waits, up to 30 s, until it has.
//!
//! A second run is a no-op, record by record:
//! - accounts, contacts, leads and the live deals are created with fixed client-chosen ids
//!   (`account_id`, `contact_id`, `lead_id`, `opportunity_id`): a retried create by the same
//!   user returns the first result;
//! - rep roster entries, the assignment rule, teams, the campaign, pipelines, competitors and
//!   exchange rates are looked up first (`ListReps`, `ListAssignmentRules`, `ListTeams`,
//!   `ListCampaigns`, `ListPipelines`, `ListCompetitors` by name, `ListExchangeRates` by
//!   currency) and only missing ones are written — `CreateCampaign`, `CreateTeam` and
//!   `CreateCompetitor` take no client id, and `PutAssignmentRules` replaces a team's whole
//!   rule list, so rules someone added are kept; Direct's exit criteria, the Contoso deal's
//!   committee and competitors are set only while missing;
//! - the history's deals have fixed ids, and `ImportOpportunities` skips deals that exist; the
//!   history is planned from where the first run's ended (read back from its first deal), so a
//!   run on a later day plans the same deals;
//! - the web form has no list call and its submissions no id: the form is created and the
//!   visitor's lead submitted only while no web-form lead from that visitor exists. A run that
//!   stopped between the two leaves an unused form behind.
//!
//! The cast (Ada the admin, Omar the head of sales, Mei managing East, Ravi and Nora in
//! East-1, Wes in West-1) have stable ids — Ada's, Mei's and Ravi's are the ids `crm dev-token
//! --role admin|manager|rep` signs for. Omar, Mei, Ravi, Nora and Wes are also gateway users
//! with those ids and the demo password ([`people`]), so they sign in to the console; Ada stays a token identity, since an admin in the gateway would
//! make `crm create-admin` refuse to create the real first admin. Each rep creates their own
//! records: Ravi enters his East accounts, his own lead and the Contoso deal, Nora and Wes
//! their accounts and a live deal each — which is also how the opportunities service comes to
//! know them before Ada imports their history. The team tree exists in the gateway, so
//! `crm create-admin --company northwind` joins it.

use std::time::Duration;

use anyhow::Context;
use chrono::Datelike;
use crm_platform::{
    auth::{Caller, JwtSigner, Role, TeamPath},
    config::Settings,
    host::{self, LocalGrpc, RunningServices},
};
use crm_proto::crm::gateway::v1::{
    CreateTeamRequest, ListExchangeRatesRequest, ListTeamsRequest, SetExchangeRateRequest, Team,
    UpdateOrgSettingsRequest, org_service_client::OrgServiceClient,
};
use tonic::metadata::MetadataValue;
use uuid::Uuid;

mod accounts;
mod activities;
mod care_and_plans;
mod compensation;
mod deal_desk;
mod deal_history;
mod deal_import;
mod forecasting;
mod knowledge;
mod leads;
mod opportunities;
mod people;
mod price_book;
mod sales_process;

/// A member of the demo cast: who a demo call is made as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: &'static str,
    pub role: Role,
    id: u128,
    team: &'static str,
}

impl Member {
    pub fn user_id(&self) -> Uuid {
        Uuid::from_u128(self.id)
    }

    pub fn team_path(&self) -> TeamPath {
        TeamPath::parse(self.team).expect("demo team paths are valid")
    }

    /// The caller a token for this member carries.
    pub fn caller(&self) -> Caller {
        Caller::user(self.user_id(), self.role, self.team_path())
    }
}

/// Ada, the admin, at the top.
pub const ADA: Member = Member {
    name: "Ada",
    role: Role::Admin,
    id: 0x0190_0000_0000_7000_8000_0000_0000_00ad,
    team: "/northwind",
};
/// Omar, head of sales: manages the whole company's teams (the cockpit's reader).
pub const OMAR: Member = Member {
    name: "Omar",
    role: Role::Manager,
    id: 0x0190_0000_0000_7000_8000_0000_0000_05a1,
    team: "/northwind",
};
/// Mei manages East.
pub const MEI: Member = Member {
    name: "Mei",
    role: Role::Manager,
    id: 0x0190_0000_0000_7000_8000_0000_0000_03e1,
    team: "/northwind/east",
};
/// Ravi, a senior rep in East-1.
pub const RAVI: Member = Member {
    name: "Ravi",
    role: Role::Rep,
    id: 0x0190_0000_0000_7000_8000_0000_0000_0a71,
    team: "/northwind/east/east-1",
};
/// Nora, a new rep in East-1.
pub const NORA: Member = Member {
    name: "Nora",
    role: Role::Rep,
    id: 0x0190_0000_0000_7000_8000_0000_0000_0a72,
    team: "/northwind/east/east-1",
};
/// Wes, an established rep in West-1.
pub const WES: Member = Member {
    name: "Wes",
    role: Role::Rep,
    id: 0x0190_0000_0000_7000_8000_0000_0000_0a73,
    team: "/northwind/west/west-1",
};

/// The demo member of each role: `crm dev-token --role ...` signs for them.
pub fn member_for(role: Role) -> Member {
    match role {
        Role::Admin => ADA,
        Role::Manager => MEI,
        Role::Rep => RAVI,
    }
}

/// The demo team of each role: Ada (admin) at the top, Mei managing East, Ravi in East-1.
pub fn team_for(role: Role) -> &'static str {
    member_for(role).team
}

/// Stable demo user ids, so `crm dev-token --role rep` is the demo rep Ravi.
pub fn user_id_for(role: Role) -> Uuid {
    member_for(role).user_id()
}

/// The Northwind team tree, parents first: (parent path, slug, name); "" parents the company.
const TEAMS: &[(&str, &str, &str)] = &[
    ("", "northwind", "Northwind Industrial"),
    ("/northwind", "east", "East"),
    ("/northwind/east", "east-1", "East-1"),
    ("/northwind", "west", "West"),
    ("/northwind/west", "west-1", "West-1"),
];

/// How demo calls reach the services: the hosted gRPC services, called in process, each call
/// with a token of the member making it.
pub(crate) struct Api {
    grpc: LocalGrpc,
    signer: JwtSigner,
}

impl Api {
    fn new(grpc: LocalGrpc, settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            grpc,
            signer: signer(settings)?,
        })
    }

    /// The in-process channel a generated client is built over.
    pub(crate) fn channel(&self) -> LocalGrpc {
        self.grpc.clone()
    }

    /// `message` as a request made by `member`.
    pub(crate) fn as_member<T>(&self, member: &Member, message: T) -> tonic::Request<T> {
        let token = self
            .signer
            .sign(&member.caller(), Duration::from_secs(10 * 60));
        let mut request = tonic::Request::new(message);
        let value: MetadataValue<_> = format!("Bearer {token}")
            .parse()
            .expect("a signed token is a valid header value");
        request.metadata_mut().insert("authorization", value);
        request
    }
}

/// The development key's signer, as `crm dev-token` uses it.
fn signer(settings: &Settings) -> anyhow::Result<JwtSigner> {
    JwtSigner::new(&settings.jwt).context(
        "set CRM_JWT_KEYS and CRM_JWT_SIGNING_KEY_ID: the demo users' calls carry tokens signed with it",
    )
}

/// A refused demo call, with what it was about.
pub(crate) fn failed(what: impl std::fmt::Display) -> impl FnOnce(tonic::Status) -> anyhow::Error {
    move |status| anyhow::anyhow!("demo {what}: {:?}: {}", status.code(), status.message())
}

/// `crm demo`: starts the suite in this process (loopback, ephemeral ports, no metrics
/// endpoint, the configured databases and broker), loads the demo through it and stops it.
/// Events not yet published when it stops wait in the outboxes for the next running relay.
pub async fn load(settings: &Settings) -> anyhow::Result<()> {
    let mut own = settings.clone();
    own.grpc_addr = ([127, 0, 0, 1], 0).into();
    own.set_value("CRM_GATEWAY_HTTP_ADDR", "127.0.0.1:0");
    own.metrics_addr = None;
    // A missing signing key fails before anything starts.
    signer(&own)?;
    let mut services = host::start(own.clone(), &crate::all_modules()).await?;
    let loaded = load_into(&services, &own).await;
    let stopped = services.shutdown().await;
    loaded?;
    stopped?;
    println!(
        "demo data loaded: the Northwind teams, the corporate currency and rates, {} accounts with their contacts; reps, the East rule, the Spring Expo campaign and leads; the price book, pipelines, competitors, the live deals and two years of deal history; this year's quotas down the team tree, the quarter's forecast calls and this week's snapshot; a compensation plan of each kind, the reps on them and last quarter closed; the knowledge base's playbooks, battlecards, objection handling, product sheets and onboarding course in English and Chinese",
        accounts::ACCOUNTS.len()
    );
    println!(
        "sign in to the console as (password {}):",
        people::DEMO_PASSWORD
    );
    for (member, email, _) in people::PEOPLE {
        println!(
            "  {email}  ({}, {:?} in {})",
            member.name, member.role, member.team
        );
    }
    Ok(())
}

/// Loads the demo into services running in this process (every module of the suite), through
/// their gRPC APIs. `settings` gives the key the demo users' tokens are signed with.
pub async fn load_into(services: &RunningServices, settings: &Settings) -> anyhow::Result<()> {
    let grpc = services
        .context(crm_gateway::NAME)
        .and_then(|context| context.local_grpc.get().cloned())
        .context("the demo needs the suite's services running in this process")?;
    let api = Api::new(grpc, settings)?;
    teams(&api).await?;
    people::load(&api).await?;
    org_settings(&api).await?;
    exchange_rates(&api).await?;
    accounts::load(&api).await?;
    leads::load(&api).await?;
    price_book::load(&api).await?;
    opportunities::load(&api).await?;
    activities::load(&api).await?;
    care_and_plans::load(&api).await?;
    deal_desk::load(&api).await?;
    forecasting::load(&api, services).await?;
    compensation::load(&api, services).await?;
    knowledge::load(&api).await?;
    Ok(())
}

/// The demo company's country calling code, for phone numbers written without one.
pub const DEFAULT_CALLING_CODE: &str = "86";

/// The currency Northwind reports in: every deal's amount is also given in it.
pub const CORPORATE_CURRENCY: &str = "CNY";

/// Yuan per US dollar and per euro, from two years before the demo was first loaded (when its
/// deal history starts) on.
const EXCHANGE_RATES: &[(&str, &str)] = &[("EUR", "7.8200"), ("USD", "7.1800")];

/// Northwind sells in China: national numbers (`138 0013 8000`) are read as +86, and it reports
/// in yuan. An update to what it has already changes nothing (no new version, no event).
async fn org_settings(api: &Api) -> anyhow::Result<()> {
    OrgServiceClient::new(api.channel())
        .update_org_settings(api.as_member(
            &ADA,
            UpdateOrgSettingsRequest {
                default_calling_code: Some(DEFAULT_CALLING_CODE.to_owned()),
                expected_version: 0,
                corporate_currency: Some(CORPORATE_CURRENCY.to_owned()),
                // Northwind's fiscal year is the calendar year, as most Chinese companies'.
                ..Default::default()
            },
        ))
        .await
        .map_err(failed("organisation settings"))?;
    Ok(())
}

/// The rates of the currencies some customers are priced in, for a currency that has none
/// (into the corporate currency). They apply from the first of the month two years ago, so
/// every deal of the history converts at them.
async fn exchange_rates(api: &Api) -> anyhow::Result<()> {
    let mut org = OrgServiceClient::new(api.channel());
    let two_years_ago = (chrono::Utc::now() - chrono::Duration::days(deal_history::HISTORY_DAYS))
        .date_naive()
        .with_day(1)
        .expect("every month has a first day");
    for (currency, rate) in EXCHANGE_RATES {
        let known = org
            .list_exchange_rates(api.as_member(
                &ADA,
                ListExchangeRatesRequest {
                    currency_code: (*currency).to_owned(),
                },
            ))
            .await
            .map_err(failed(format!("{currency} exchange rates")))?
            .into_inner()
            .rates;
        if !known.is_empty() {
            continue;
        }
        org.set_exchange_rate(api.as_member(
            &ADA,
            SetExchangeRateRequest {
                currency_code: (*currency).to_owned(),
                effective_on: two_years_ago.to_string(),
                rate: (*rate).to_owned(),
            },
        ))
        .await
        .map_err(failed(format!("{currency} exchange rate")))?;
    }
    Ok(())
}

/// The team tree in the gateway; teams that exist (by path) are left alone.
async fn teams(api: &Api) -> anyhow::Result<()> {
    let mut org = OrgServiceClient::new(api.channel());
    let mut existing = org
        .list_teams(api.as_member(&ADA, ListTeamsRequest {}))
        .await
        .map_err(failed("teams"))?
        .into_inner()
        .teams;
    let id_of = |teams: &[Team], path: &str| -> anyhow::Result<Option<String>> {
        let path = TeamPath::parse(path).map_err(anyhow::Error::msg)?;
        Ok(teams
            .iter()
            .find(|team| TeamPath::parse(&team.path).is_ok_and(|known| known == path))
            .map(|team| team.id.clone()))
    };
    for (parent, slug, name) in TEAMS {
        let path = format!("{parent}/{slug}");
        if id_of(&existing, &path)?.is_some() {
            continue;
        }
        let parent_team_id = match *parent {
            "" => String::new(),
            parent => id_of(&existing, parent)?.context("parent teams come first")?,
        };
        let team = org
            .create_team(api.as_member(
                &ADA,
                CreateTeamRequest {
                    slug: (*slug).to_owned(),
                    name: (*name).to_owned(),
                    parent_team_id,
                },
            ))
            .await
            .map_err(failed(format!("team {path}")))?
            .into_inner()
            .team
            .context("CreateTeam answers the team")?;
        existing.push(team);
    }
    Ok(())
}
