//! `crm`: every service in one process (`crm serve --services all`), or any subset, the same
//! code the per-service binaries run; plus the operator commands.

use std::{process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use crm::{all_modules, demo};
use crm_platform::{
    auth::{Caller, JwtSigner, Role, TeamPath},
    config::{Settings, parse_duration},
    db,
    host::{self, ServiceModule},
    outbox, telemetry,
};

#[derive(Parser)]
#[command(name = "crm", version, about = "CRM sales-management suite", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the given services in this process until SIGTERM or Ctrl-C.
    Serve {
        /// `all`, or a comma-separated list such as `accounts,leads`.
        #[arg(long, default_value = "all")]
        services: String,
    },
    /// Create the services' databases if missing and apply their migrations.
    Migrate {
        #[arg(long, default_value = "all")]
        services: String,
    },
    /// Operate on a service's transactional outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Recompute the opportunities service's funnel roll-up from its stage history and deals:
    /// after deals were loaded in bulk straight into its database (the use cases keep the
    /// roll-up as they write). Safe to run while the service runs.
    RebuildFunnel,
    /// Operate on the forecasting service's read model.
    Forecasting {
        #[command(subcommand)]
        command: ForecastingCommand,
    },
    /// Load the demo data set (Northwind Industrial); safe to run again.
    Demo,
    /// Print the HTTP/JSON API's OpenAPI document (as the gateway serves at /openapi.json).
    Openapi,
    /// Create the first admin and the company team. The password is read from
    /// CRM_ADMIN_PASSWORD or, when unset, from the first line of standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The company team's slug: the root of every team path.
        #[arg(long, default_value = "company")]
        company: String,
        #[arg(long, default_value = "Company")]
        company_name: String,
    },
    /// Print a signed token for local use (needs CRM_JWT_KEYS and CRM_JWT_SIGNING_KEY_ID).
    DevToken {
        #[arg(long, default_value = "admin")]
        role: String,
        /// Team path; the demo team of the role when omitted.
        #[arg(long)]
        team: Option<String>,
        /// User id (UUID); a fixed demo id per role when omitted.
        #[arg(long)]
        user: Option<uuid::Uuid>,
        #[arg(long, default_value = "12h")]
        ttl: String,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Re-publish events that occurred since a time, after the broker lost data. Consumers are
    /// idempotent, so events they already applied have no effect.
    Replay {
        #[arg(long)]
        service: String,
        /// RFC 3339 time, e.g. 2026-11-23T08:00:00Z, or a duration ago such as 6h.
        #[arg(long)]
        since: String,
    },
}

#[derive(Subcommand)]
enum ForecastingCommand {
    /// Replace the pipeline read model by one replayed from the opportunities service's
    /// stream, in one transaction: after a bug in it was fixed, or to prove it (the numbers
    /// come out identical). Readers keep the old numbers until it commits; the live consumer
    /// waits meanwhile. Overrides, quotas, calls and snapshots are kept.
    Rebuild,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { services } => {
            let modules = select(&services)?;
            let _telemetry = telemetry::init("crm", &settings)?;
            host::run_until_signalled(settings, &modules).await
        }
        Command::Migrate { services } => {
            let modules = select(&services)?;
            let _telemetry = telemetry::init("crm", &settings)?;
            host::migrate(&settings, &modules).await
        }
        Command::Outbox {
            command: OutboxCommand::Replay { service, since },
        } => {
            let module = select(&service)?
                .into_iter()
                .next()
                .context("no service named")?;
            let since = parse_since(&since)?;
            let pool = db::connect(&settings.database_url(module.name), 2).await?;
            let count = outbox::replay_since(&pool, since).await?;
            println!(
                "{count} events of {} since {since} marked for re-publishing; a running {} relay sends them within its poll interval",
                module.name, module.name
            );
            Ok(())
        }
        Command::RebuildFunnel => {
            let pool = db::connect(&settings.database_url(crm_opportunities::NAME), 2).await?;
            crm_opportunities::rebuild_funnel_roll_up(&pool).await?;
            println!(
                "the funnel roll-up of {} is rebuilt",
                crm_opportunities::NAME
            );
            Ok(())
        }
        Command::Forecasting {
            command: ForecastingCommand::Rebuild,
        } => {
            let pool = db::connect(&settings.database_url(crm_forecasting::NAME), 2).await?;
            let jetstream = host::connect_nats(&settings).await?;
            let naming = crm_platform::events::EventNaming::new(settings.event_namespace.clone());
            let report = crm_forecasting::rebuild_read_model(&pool, &jetstream, &naming).await?;
            for (consumer, replayed) in report {
                println!(
                    "{consumer}: {} events applied, {} malformed set aside, {} of other subjects skipped",
                    replayed.applied, replayed.set_aside, replayed.skipped
                );
            }
            println!("the read model of {} is rebuilt", crm_forecasting::NAME);
            Ok(())
        }
        Command::Demo => demo::load(&settings).await,
        Command::Openapi => {
            println!("{}", crm_gateway::http::openapi_json()?);
            Ok(())
        }
        Command::CreateAdmin {
            email,
            name,
            company,
            company_name,
        } => create_admin(&settings, &email, &name, &company, &company_name).await,
        Command::DevToken {
            role,
            team,
            user,
            ttl,
        } => {
            let signer = JwtSigner::new(&settings.jwt)
                .context("set CRM_JWT_KEYS and CRM_JWT_SIGNING_KEY_ID to sign tokens")?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let caller = Caller {
                user_id: user.unwrap_or_else(|| demo::user_id_for(role)),
                role,
                team_path: TeamPath::parse(team.as_deref().unwrap_or(demo::team_for(role)))
                    .map_err(anyhow::Error::msg)?,
                scopes: None,
            };
            let ttl = parse_duration(&ttl).map_err(anyhow::Error::msg)?;
            println!("{}", signer.sign(&caller, ttl));
            Ok(())
        }
    }
}

async fn create_admin(
    settings: &Settings,
    email: &str,
    name: &str,
    company: &str,
    company_name: &str,
) -> anyhow::Result<()> {
    let password = match std::env::var("CRM_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let url = settings.database_url(crm_gateway::NAME);
    db::ensure_database(&url).await?;
    let pool = db::connect(&url, 2).await?;
    db::migrate(&pool, crm_gateway::migrator).await?;
    // The events wait in the outbox until a running gateway publishes them.
    let gateway = crm_gateway::Gateway::new(
        pool.clone(),
        crm_platform::outbox::Outbox::new(),
        settings.jwt.clone(),
    )?;
    let request = crm_proto::crm::gateway::v1::CreateUserRequest {
        email: email.to_owned(),
        display_name: name.to_owned(),
        role: crm_proto::crm::gateway::v1::Role::Admin as i32,
        team_id: uuid::Uuid::nil().to_string(),
        password,
        ..Default::default()
    };
    let new = crm_gateway::new_user(request).map_err(describe)?;
    let admin = gateway
        .create_first_admin(company, company_name, new)
        .await
        .map_err(describe)?;
    pool.close().await;
    println!(
        "admin {} ({}) created in team {}",
        admin.email, admin.id, admin.team_path
    );
    Ok(())
}

/// The error and, when there are any, the fields at fault.
fn describe(error: crm_gateway::GatewayError) -> anyhow::Error {
    let violations = crm_platform::error::ServiceError::field_violations(&error);
    if violations.is_empty() {
        return anyhow::anyhow!("{error}");
    }
    let fields: Vec<String> = violations.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("{error}: {}", fields.join("; "))
}

/// `all` or a comma-separated list of service names.
fn select(services: &str) -> anyhow::Result<Vec<ServiceModule>> {
    let modules = all_modules();
    if services.trim() == "all" {
        return Ok(modules);
    }
    services
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            modules
                .iter()
                .copied()
                .find(|module| module.name == name)
                .with_context(|| {
                    let known: Vec<&str> = modules.iter().map(|m| m.name).collect();
                    format!("unknown service {name:?}; known: {}", known.join(", "))
                })
        })
        .collect()
}

fn parse_since(value: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    let ago: Duration = parse_duration(value).map_err(|_| {
        anyhow::anyhow!("--since {value:?} is neither an RFC 3339 time nor a duration like 6h")
    })?;
    Ok(chrono::Utc::now() - chrono::Duration::from_std(ago)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_selected_by_name() {
        assert_eq!(select("all").unwrap().len(), all_modules().len());
        assert_eq!(select("accounts").unwrap()[0].name, "accounts");
        assert!(
            select("accounts,nope")
                .unwrap_err()
                .to_string()
                .contains("unknown service \"nope\"")
        );
    }

    #[test]
    fn since_takes_a_time_or_a_duration_ago() {
        let since = parse_since("2026-11-23T08:00:00Z").unwrap();
        assert_eq!(since.to_rfc3339(), "2026-11-23T08:00:00+00:00");
        let ago = parse_since("6h").unwrap();
        assert!(chrono::Utc::now() - ago >= chrono::Duration::hours(6));
        assert!(parse_since("yesterday").is_err());
    }
}
