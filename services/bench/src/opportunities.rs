//! What the opportunities scenarios (`priority-board`, `funnel`, `stage-change`) share: the
//! service hosted in this process as `crm serve` hosts it, with a fresh database and namespace;
//! the users it knows (`org_users`, as the gateway's directory events would have filed them)
//! and their tokens; the organisation's corporate currency; and the clean-up.

use std::{collections::BTreeMap, str::FromStr};

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    events,
    money::CurrencyCode,
    org::{OrgDirectory, OrgSettings},
};
use crm_test_support::TestApp;
use sqlx::{
    ConnectOptions, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

use crate::setup;

/// The seeded default pipeline "Direct" and its stages (migrations/opportunities).
pub const DIRECT: Uuid = Uuid::from_u128(0x01900000_0000_7000_8000_000000000001);
pub const QUALIFY: Uuid = Uuid::from_u128(0x01900000_0000_7000_8000_000000000011);
pub const DEVELOP: Uuid = Uuid::from_u128(0x01900000_0000_7000_8000_000000000012);

/// The producers whose streams the service's consumers read (lead conversions, account
/// records, the organisation's directory): with the streams there they settle instead of
/// retrying and logging through the run.
const CONSUMED_PRODUCERS: [&str; 3] = ["leads", "accounts", "gateway"];

/// The opportunities service (and, for `forecast`, the services beside it) running in this
/// process.
pub struct Hosted {
    app: TestApp,
    /// The hosted services' names, in the order of their databases.
    services: Vec<&'static str>,
}

impl Hosted {
    /// Starts the service with `connections` database connections and the caller's settings.
    pub async fn start(
        connections: u32,
        overrides: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        Self::start_modules(&[crm_opportunities::module()], connections, overrides).await
    }

    /// Starts `modules` (the opportunities service first) with `connections` database
    /// connections each and the caller's settings.
    pub async fn start_modules(
        modules: &[crm_platform::host::ServiceModule],
        connections: u32,
        overrides: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut settings: Vec<(String, String)> = overrides
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        settings.push((
            "CRM_DATABASE_MAX_CONNECTIONS".to_owned(),
            connections.to_string(),
        ));
        let settings: Vec<(&str, &str)> = settings
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let app = TestApp::spawn_with(modules, &crm_test_support::nats_url(), &settings).await;
        let context = app
            .services
            .context(crm_opportunities::NAME)
            .ok_or_else(|| anyhow::anyhow!("the opportunities service is not hosted"))?;
        for producer in CONSUMED_PRODUCERS {
            events::ensure_stream(
                &context.jetstream,
                &context.naming,
                producer,
                app.settings.outbox.duplicate_window,
            )
            .await?;
        }
        let services = modules.iter().map(|module| module.name).collect();
        Ok(Self { app, services })
    }

    pub fn pool(&self) -> &PgPool {
        self.app.pool(crm_opportunities::NAME)
    }

    /// A hosted service's context (its pool, outbox, stream names).
    pub fn context(&self, service: &str) -> anyhow::Result<&crm_platform::host::ServiceContext> {
        self.app
            .services
            .context(service)
            .ok_or_else(|| anyhow::anyhow!("the {service} service is not hosted"))
    }

    /// A pool of its own on the service's database, for the raw baselines and the bulk load:
    /// no ping before a checkout, as the service's pool, and no log of slow statements (the
    /// load's and the baselines' are slow by design).
    pub async fn baseline_pool(&self, connections: u32) -> anyhow::Result<PgPool> {
        self.baseline_pool_of(crm_opportunities::NAME, connections)
            .await
    }

    /// [`Hosted::baseline_pool`] on `service`'s database.
    pub async fn baseline_pool_of(
        &self,
        service: &str,
        connections: u32,
    ) -> anyhow::Result<PgPool> {
        let database = self
            .services
            .iter()
            .position(|hosted| *hosted == service)
            .and_then(|index| self.app.databases.get(index))
            .ok_or_else(|| anyhow::anyhow!("the {service} service has no database"))?;
        let options =
            PgConnectOptions::from_str(database.url.expose())?.disable_statement_logging();
        Ok(PgPoolOptions::new()
            .max_connections(connections)
            .test_before_acquire(false)
            .connect_with(options)
            .await?)
    }

    /// A channel (one HTTP/2 connection) to the service's gRPC address.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.app.grpc_url())?
            .tcp_nodelay(true)
            .connect()
            .await?)
    }

    /// A bearer token for `caller`, signed as the gateway signs them.
    pub fn token(&self, caller: &Caller) -> String {
        self.app.token(caller)
    }

    /// Stops the service, deletes the namespace's streams and drops the database.
    pub async fn cleanup(mut self) {
        let hosted = self.services.clone();
        let streams = self
            .app
            .services
            .context(crm_opportunities::NAME)
            .map(|context| {
                let naming = &context.naming;
                let mut names: Vec<String> = CONSUMED_PRODUCERS
                    .iter()
                    .chain(&hosted)
                    .map(|producer| naming.stream(producer))
                    .collect();
                names.push(naming.dead_letter_stream());
                (context.jetstream.clone(), names)
            });
        if let Err(error) = self.app.services.shutdown().await {
            eprintln!("warning: stopping the hosted services failed: {error:#}");
        }
        if let Some((jetstream, names)) = streams {
            for name in names {
                let _ = jetstream.delete_stream(name).await;
            }
        }
        for database in &self.app.databases {
            database.pool.close().await;
            if let Err(error) = setup::drop_database(&database.name).await {
                eprintln!(
                    "warning: dropping database {} failed: {error}",
                    database.name
                );
            }
        }
    }
}

/// A user of the bench's organisation.
#[derive(Clone, Debug)]
pub struct Person {
    pub caller: Caller,
    pub name: String,
}

impl Person {
    pub fn new(role: Role, team: &str, name: impl Into<String>) -> anyhow::Result<Self> {
        Ok(Self {
            caller: Caller {
                user_id: Uuid::now_v7(),
                role,
                team_path: TeamPath::parse(team).map_err(anyhow::Error::msg)?,
                scopes: None,
            },
            name: name.into(),
        })
    }

    pub fn id(&self) -> Uuid {
        self.caller.user_id
    }
}

/// `count` reps in a team tree of five regions: five reps to a team, five teams to an area, four
/// areas to a region (500 reps: 100 teams, 20 areas, 5 regions).
pub fn reps(count: usize) -> anyhow::Result<Vec<Person>> {
    (0..count)
        .map(|n| {
            let team = format!(
                "/northwind/region-{}/area-{}/team-{}/",
                n / 100,
                n / 25,
                n / 5
            );
            Person::new(Role::Rep, &team, format!("Rep {n}"))
        })
        .collect()
}

/// Files the people in the service's directory (`org_users`) as the gateway's directory
/// events would have: from the directory, at version 1.
pub async fn file_users(pool: &PgPool, people: &[Person]) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = people.iter().map(Person::id).collect();
    let teams: Vec<&str> = people
        .iter()
        .map(|person| person.caller.team_path.as_str())
        .collect();
    let roles: Vec<String> = people
        .iter()
        .map(|person| person.caller.role.to_string())
        .collect();
    let names: Vec<&str> = people.iter().map(|person| person.name.as_str()).collect();
    sqlx::query(
        "INSERT INTO org_users (user_id, team_path, role, display_name, active, from_directory, \
         version, updated_at) \
         SELECT id, team, role, name, true, true, 1, now() \
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, team, role, name)",
    )
    .bind(&ids)
    .bind(&teams)
    .bind(&roles)
    .bind(&names)
    .execute(pool)
    .await?;
    Ok(())
}

/// The organisation's corporate currency, CNY, as the gateway's settings event would have set
/// it: deals' corporate amounts count in it.
pub async fn set_corporate_currency(pool: &PgPool) -> anyhow::Result<()> {
    let mut connection = pool.acquire().await?;
    OrgDirectory::record_settings(
        &mut connection,
        &OrgSettings {
            corporate_currency: Some(CurrencyCode::CNY),
            version: 1,
            ..OrgSettings::default()
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn five_hundred_reps_make_a_tree_of_regions_areas_and_teams() {
        let reps = reps(500).unwrap();
        let distinct = |segments: usize| {
            reps.iter()
                .map(|rep| {
                    rep.caller
                        .team_path
                        .as_str()
                        .split('/')
                        .take(segments + 2)
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect::<HashSet<_>>()
                .len()
        };
        // Segments below /northwind/: region, area, team.
        assert_eq!(distinct(1), 5);
        assert_eq!(distinct(2), 20);
        assert_eq!(distinct(3), 100);
        assert_eq!(
            reps.iter().map(Person::id).collect::<HashSet<_>>().len(),
            500
        );
        assert!(reps.iter().all(|rep| rep.caller.role == Role::Rep));
    }
}
