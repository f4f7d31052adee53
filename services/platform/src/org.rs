//! The organisation's directory as a service keeps it: one reusable replica of the gateway's
//! org events (table `org_users`, in every service database), and the rule for which team a
//! new record is filed under.
//!
//! The directory is authoritative. A token's team is recorded only for a user the directory
//! has not told this service about, and never overwrites a directory row: a token can predate
//! a team move by up to the access-token lifetime. Directory rows are upserted by the user's
//! version, so a redelivered or out-of-order event never rolls a user back.
//!
//! A service mounts [`consumer_spec`] with an [`OrgDirectoryHandler`] around its own
//! [`OrgFollower`] (what else a change means to it: re-scoping a moved user's records, a
//! roster), and files records with [`OrgDirectory::filing_team`].
//!
//! The same consumer keeps the organisation's settings (table `org_settings`, one row, from
//! the gateway's `OrgSettingsUpdated` events, by version like the users): a service reads them
//! with [`OrgDirectory::settings`], e.g. the default calling code of national phone numbers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::NaiveDate;
use crm_proto::crm::{
    common::v1::LifecycleStage,
    gateway::v1::{self as gateway, ExchangeRateSet, OrgSettingsUpdated, UserCreated, UserUpdated},
};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{
    auth::{Caller, Role, TeamPath},
    config::ServiceSettings,
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    error::{FieldViolation, reasons},
    events::DomainEvent,
    fiscal::{FiscalCalendar, FiscalYearNaming},
};

/// A user as the directory describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUser {
    pub user_id: Uuid,
    pub team_path: TeamPath,
    pub role: Role,
    pub display_name: String,
    pub active: bool,
    /// The effective lifecycle stage (override or tenure).
    pub stage: LifecycleStage,
    pub started_on: NaiveDate,
    /// The user's version in the gateway.
    pub version: i64,
}

/// One org event, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgChange {
    UserCreated(DirectoryUser),
    UserUpdated {
        user: DirectoryUser,
        /// Set when the user moved teams: their records follow them.
        moved_from: Option<TeamPath>,
    },
}

impl OrgChange {
    pub fn user(&self) -> &DirectoryUser {
        match self {
            OrgChange::UserCreated(user) | OrgChange::UserUpdated { user, .. } => user,
        }
    }

    /// The team the user left, when this change is a move.
    pub fn moved_from(&self) -> Option<&TeamPath> {
        match self {
            OrgChange::UserCreated(_) => None,
            OrgChange::UserUpdated { moved_from, .. } => moved_from.as_ref(),
        }
    }

    /// Decodes an org event. Every subject of [`consumer_spec`] is handled; any other subject is
    /// a permanent error (dead-lettered), never guessed at.
    pub fn decode(event: &ReceivedEvent) -> Result<Self, HandlerError> {
        let subject = event.subject.as_str();
        if subject == UserCreated::subject() {
            let created: UserCreated = event.decode()?;
            Ok(OrgChange::UserCreated(directory_user(created.user)?))
        } else if subject == UserUpdated::subject() {
            let updated: UserUpdated = event.decode()?;
            let moved_from = match updated.previous_team_path.as_str() {
                "" => None,
                path => Some(TeamPath::parse(path).map_err(permanent("previous team path"))?),
            };
            Ok(OrgChange::UserUpdated {
                user: directory_user(updated.user)?,
                moved_from,
            })
        } else {
            Err(unknown_subject(event))
        }
    }
}

/// `org_settings` as stored.
#[derive(sqlx::FromRow)]
struct SettingsRow {
    default_calling_code: Option<String>,
    corporate_currency: Option<String>,
    version: i64,
    fiscal_year_start_month: i32,
    fiscal_year_naming: String,
}

/// The organisation's settings as the gateway last published them; the default (nothing set,
/// version 0) until it has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgSettings {
    /// The country calling code national phone numbers are read with ("86", digits only), as
    /// the gateway checked it; `None`: none, such numbers are refused.
    pub default_calling_code: Option<String>,
    /// The currency the organisation reports in; `None` while none is set.
    pub corporate_currency: Option<crate::money::CurrencyCode>,
    /// The months, quarters and fiscal years periods are counted in; the calendar year until
    /// set.
    pub fiscal_calendar: FiscalCalendar,
    /// The settings' version in the gateway.
    pub version: i64,
}

impl OrgSettings {
    /// Decodes an `OrgSettingsUpdated` event.
    pub fn decode(event: &ReceivedEvent) -> Result<Self, HandlerError> {
        let updated: OrgSettingsUpdated = event.decode()?;
        let settings = updated
            .settings
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no settings")))?;
        let fiscal_calendar = fiscal_calendar(&settings)?;
        Ok(OrgSettings {
            default_calling_code: Some(settings.default_calling_code)
                .filter(|code| !code.is_empty()),
            corporate_currency: match settings.corporate_currency.trim() {
                "" => None,
                code => Some(code.parse().map_err(|error: String| {
                    HandlerError::Permanent(anyhow::anyhow!("corporate currency: {error}"))
                })?),
            },
            fiscal_calendar,
            version: i64::try_from(settings.version).map_err(permanent("version"))?,
        })
    }
}

/// The event's fiscal calendar: a start month of 0 (an event from before there was one) is
/// January, an unspecified naming the starting year.
fn fiscal_calendar(settings: &gateway::OrgSettings) -> Result<FiscalCalendar, HandlerError> {
    let naming = match gateway::FiscalYearNaming::try_from(settings.fiscal_year_naming) {
        Ok(gateway::FiscalYearNaming::EndingYear) => FiscalYearNaming::EndingYear,
        Ok(_) => FiscalYearNaming::StartingYear,
        Err(error) => return Err(permanent("fiscal year naming")(error)),
    };
    FiscalCalendar::new(settings.fiscal_year_start_month.max(1), naming)
        .map_err(permanent("fiscal year start month"))
}

/// The permanent error of an event on a subject its consumer does not handle.
pub fn unknown_subject(event: &ReceivedEvent) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!(
        "no handler for subject {} ({})",
        event.subject,
        event.event_type
    ))
}

fn permanent<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> HandlerError {
    move |error| HandlerError::Permanent(anyhow::anyhow!("bad {what} in org event: {error}"))
}

fn directory_user(user: Option<gateway::User>) -> Result<DirectoryUser, HandlerError> {
    let user =
        user.ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no user")))?;
    let role = match gateway::Role::try_from(user.role) {
        Ok(gateway::Role::Admin) => Role::Admin,
        Ok(gateway::Role::Manager) => Role::Manager,
        Ok(gateway::Role::Rep) => Role::Rep,
        _ => return Err(permanent("role")(user.role)),
    };
    Ok(DirectoryUser {
        user_id: Uuid::parse_str(&user.id).map_err(permanent("user id"))?,
        team_path: TeamPath::parse(&user.team_path).map_err(permanent("team path"))?,
        role,
        display_name: user.display_name,
        active: user.active,
        stage: LifecycleStage::try_from(user.stage).map_err(permanent("lifecycle stage"))?,
        started_on: NaiveDate::parse_from_str(&user.started_on, "%Y-%m-%d")
            .map_err(permanent("start date"))?,
        version: i64::try_from(user.version).map_err(permanent("version"))?,
    })
}

/// Refuses to start a service whose settings still hold `CRM_<SERVICE>_DEFAULT_CALLING_CODE`:
/// the default calling code is the organisation's setting now (the gateway's
/// `OrgService.UpdateOrgSettings`), kept through the org events, and a per-service one could
/// read the same national number differently in leads and in accounts.
pub fn refuse_retired_calling_code_setting(settings: &ServiceSettings) -> anyhow::Result<()> {
    let variable = settings.variable("DEFAULT_CALLING_CODE");
    match settings.optional("DEFAULT_CALLING_CODE") {
        None => Ok(()),
        Some(_) => Err(anyhow::anyhow!(
            "{variable} is no longer read: the default calling code is the organisation's \
             setting (an admin sets it with OrgService.UpdateOrgSettings, PATCH /v1/orgSettings); \
             unset {variable}"
        )),
    }
}

/// The durable consumer of org events for `service` (`<service>-org-directory`).
pub fn consumer_spec(service: &str) -> ConsumerSpec {
    ConsumerSpec {
        name: format!("{service}-org-directory"),
        producer: "gateway".to_owned(),
        subjects: vec![
            UserCreated::subject(),
            UserUpdated::subject(),
            OrgSettingsUpdated::subject(),
            // Rates into the corporate currency (crate::exchange): any service may convert.
            ExchangeRateSet::subject(),
        ],
    }
}

/// What a service does with a user's org change beyond the directory itself, in the consumer's
/// transaction. Called only for changes not older than what the directory held, so it must be
/// idempotent (a redelivered change is followed again).
pub trait OrgFollower: Send + Sync + 'static {
    fn follow<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        change: &'a OrgChange,
    ) -> HandlerFuture<'a>;
}

/// For services that keep nothing but the directory.
impl OrgFollower for () {
    fn follow<'a>(&'a self, _: &'a mut PgConnection, _: &'a OrgChange) -> HandlerFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// Keeps `org_users` and `org_settings`, and calls the service's follower on user changes.
pub struct OrgDirectoryHandler<F> {
    follower: F,
}

impl<F: OrgFollower> OrgDirectoryHandler<F> {
    pub fn new(follower: F) -> Arc<Self> {
        Arc::new(Self { follower })
    }
}

impl<F: OrgFollower> EventHandler for OrgDirectoryHandler<F> {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if event.subject == OrgSettingsUpdated::subject() {
                OrgDirectory::record_settings(connection, &OrgSettings::decode(event)?).await?;
                return Ok(());
            }
            if event.subject == ExchangeRateSet::subject() {
                crate::exchange::ExchangeRate::decode(event)?
                    .record(connection)
                    .await?;
                return Ok(());
            }
            let change = OrgChange::decode(event)?;
            if OrgDirectory::record(connection, change.user()).await? {
                self.follower.follow(connection, &change).await?;
            }
            Ok(())
        })
    }
}

/// Where the team in an `org_users` row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TeamSource {
    Directory,
    Token,
}

/// What the process knows needs no write for a user (see [`OrgDirectory::remember`]).
#[derive(Clone, Debug, PartialEq, Eq)]
enum KnownUser {
    /// The directory knows the user: no token changes their row.
    InDirectory,
    /// The row holds this team from the user's token, and the directory had not spoken.
    ByToken(TeamPath),
}

/// A service's handle on its directory replica. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct OrgDirectory {
    known: Arc<Mutex<HashMap<Uuid, KnownUser>>>,
}

impl OrgDirectory {
    /// Makes sure the service knows the caller, so records can be given to them by id: the
    /// token's team is written only while the directory has not told us about them. A process
    /// cache saves the read on later writes; it never serves a team, only "nothing to write"
    /// (a user the directory knows, which never reverts, or a token row holding this token's
    /// team). Caching the directory's team itself would be wrong: a move is consumed by one
    /// replica only, so others could not invalidate their copy. The team records are filed
    /// under is read in the transaction instead ([`OrgDirectory::filing_team`]).
    pub async fn remember(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
    ) -> sqlx::Result<()> {
        let cached = match self.lock().get(&caller.user_id) {
            Some(KnownUser::InDirectory) => true,
            Some(KnownUser::ByToken(team_path)) => *team_path == caller.team_path,
            None => false,
        };
        if cached {
            return Ok(());
        }
        if let Some(source) = remember_user(connection, caller).await? {
            let known = match source {
                TeamSource::Directory => KnownUser::InDirectory,
                TeamSource::Token => KnownUser::ByToken(caller.team_path.clone()),
            };
            self.lock().insert(caller.user_id, known);
        }
        Ok(())
    }

    /// The team a user's new records are filed under: the directory's when it knows the user,
    /// else the team their token carries. The row is share-locked to the end of the
    /// transaction, so a concurrent move either waits for the record being filed (and then
    /// re-scopes it) or commits first (and this reads the new team).
    pub async fn filing_team(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
    ) -> sqlx::Result<TeamPath> {
        Ok(Self::team_of(connection, caller.user_id)
            .await?
            .unwrap_or_else(|| caller.team_path.clone()))
    }

    /// The team of a user this service knows (directory or token), share-locked as in
    /// [`OrgDirectory::filing_team`]; `None` for a user it has never heard of.
    pub async fn team_of(
        connection: &mut PgConnection,
        user_id: Uuid,
    ) -> sqlx::Result<Option<TeamPath>> {
        let team: Option<String> =
            sqlx::query_scalar("SELECT team_path FROM org_users WHERE user_id = $1 FOR SHARE")
                .bind(user_id)
                .fetch_optional(connection)
                .await?;
        team.map(|path| stored_team(&path)).transpose()
    }

    /// The first day of each of `user_ids` the directory gave; users it has not described (or
    /// not since the day was kept) are absent.
    pub async fn started_on(
        connection: &mut PgConnection,
        user_ids: &[Uuid],
    ) -> sqlx::Result<HashMap<Uuid, NaiveDate>> {
        let rows: Vec<(Uuid, NaiveDate)> = sqlx::query_as(
            "SELECT user_id, started_on FROM org_users \
             WHERE user_id = ANY($1) AND started_on IS NOT NULL",
        )
        .bind(user_ids)
        .fetch_all(connection)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Records a user as the directory says, unless the row holds a later version (an event
    /// delivered out of order). The same version again applies again, harmlessly: what it
    /// writes, and what followers do with it, is the same. Returns whether it was applied.
    pub async fn record(connection: &mut PgConnection, user: &DirectoryUser) -> sqlx::Result<bool> {
        let applied = sqlx::query(
            "INSERT INTO org_users (user_id, team_path, role, display_name, active, from_directory, version, \
             started_on) VALUES ($1, $2, $3, $4, $5, true, $6, $7) \
             ON CONFLICT (user_id) DO UPDATE SET team_path = EXCLUDED.team_path, role = EXCLUDED.role, \
             display_name = EXCLUDED.display_name, active = EXCLUDED.active, from_directory = true, \
             version = EXCLUDED.version, started_on = EXCLUDED.started_on, updated_at = now() \
             WHERE NOT org_users.from_directory OR org_users.version <= EXCLUDED.version",
        )
        .bind(user.user_id)
        .bind(user.team_path.as_str())
        .bind(user.role.to_string())
        .bind(&user.display_name)
        .bind(user.active)
        .bind(user.version)
        .bind(user.started_on)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(applied == 1)
    }

    /// Records the organisation's settings as the gateway published them, unless the row holds
    /// a later version (an event delivered out of order). Returns whether it was applied.
    pub async fn record_settings(
        connection: &mut PgConnection,
        settings: &OrgSettings,
    ) -> sqlx::Result<bool> {
        let applied = sqlx::query(
            "INSERT INTO org_settings (singleton, default_calling_code, corporate_currency, version, \
             fiscal_year_start_month, fiscal_year_naming) VALUES (true, $1, $3, $2, $4, $5) \
             ON CONFLICT (singleton) DO UPDATE SET default_calling_code = EXCLUDED.default_calling_code, \
             corporate_currency = EXCLUDED.corporate_currency, \
             fiscal_year_start_month = EXCLUDED.fiscal_year_start_month, \
             fiscal_year_naming = EXCLUDED.fiscal_year_naming, \
             version = EXCLUDED.version, updated_at = now() \
             WHERE org_settings.version <= EXCLUDED.version",
        )
        .bind(settings.default_calling_code.as_deref())
        .bind(settings.version)
        .bind(settings.corporate_currency.map(|code| code.as_str()))
        .bind(settings.fiscal_calendar.start_month() as i32)
        .bind(settings.fiscal_calendar.naming().as_str())
        .execute(connection)
        .await?
        .rows_affected();
        Ok(applied == 1)
    }

    /// The organisation's settings as this service last heard them. Read where they are used
    /// (one indexed row), not cached: a change is consumed by one replica of the service only,
    /// so a process cache could not be told.
    pub async fn settings<'e>(executor: impl PgExecutor<'e>) -> sqlx::Result<OrgSettings> {
        let row: Option<SettingsRow> = sqlx::query_as(
            "SELECT default_calling_code, corporate_currency, version, fiscal_year_start_month, \
             fiscal_year_naming FROM org_settings",
        )
        .fetch_optional(executor)
        .await?;
        let Some(row) = row else {
            return Ok(OrgSettings::default());
        };
        Ok(OrgSettings {
            default_calling_code: row.default_calling_code,
            corporate_currency: row
                .corporate_currency
                .map(|code| {
                    code.parse()
                        .map_err(|error: String| sqlx::Error::Decode(error.into()))
                })
                .transpose()?,
            fiscal_calendar: FiscalCalendar::from_stored(
                row.fiscal_year_start_month,
                &row.fiscal_year_naming,
            )
            .map_err(|error| sqlx::Error::Decode(error.into()))?,
            version: row.version,
        })
    }

    /// Runs a pure validation that reads phone numbers with the organisation's default calling
    /// code, reading the setting only when a national number needs it: most writes carry
    /// international numbers or none, and the read was a round trip before every such write.
    /// The result is the validation's with the setting as this service last heard it.
    pub async fn validate_with_calling_code<'e, T>(
        executor: impl PgExecutor<'e>,
        validate: impl Fn(Option<&str>) -> Result<T, Vec<FieldViolation>>,
    ) -> sqlx::Result<Result<T, Vec<FieldViolation>>> {
        let without = validate(None);
        let needs_code = without.as_ref().is_err_and(|violations| {
            violations
                .iter()
                .any(|violation| violation.reason == Some(reasons::NO_DEFAULT_CALLING_CODE))
        });
        if !needs_code {
            return Ok(without);
        }
        Ok(match Self::settings(executor).await?.default_calling_code {
            Some(code) => validate(Some(&code)),
            None => without,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, KnownUser>> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A stored team path that does not parse is corrupt data, not a default.
fn stored_team(path: &str) -> sqlx::Result<TeamPath> {
    TeamPath::parse(path).map_err(|error| sqlx::Error::Decode(error.into()))
}

/// Writes the caller's token team unless the directory knows them. Reads first: an upsert
/// would row-lock the user's row until commit and queue every concurrent write by the same
/// user behind it. Returns where the row's team came from when it needed nothing; `None` when
/// this call wrote it (not yet committed, so not cacheable).
async fn remember_user(
    connection: &mut PgConnection,
    caller: &Caller,
) -> sqlx::Result<Option<TeamSource>> {
    let known: Option<(String, bool)> =
        sqlx::query_as("SELECT team_path, from_directory FROM org_users WHERE user_id = $1")
            .bind(caller.user_id)
            .fetch_optional(&mut *connection)
            .await?;
    match known {
        Some((_, true)) => return Ok(Some(TeamSource::Directory)),
        Some((team_path, false)) if team_path == caller.team_path.as_str() => {
            return Ok(Some(TeamSource::Token));
        }
        _ => {}
    }
    // The guard covers a directory row committed since the read.
    sqlx::query(
        "INSERT INTO org_users (user_id, team_path, role) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET team_path = EXCLUDED.team_path, role = EXCLUDED.role, \
         updated_at = now() WHERE NOT org_users.from_directory",
    )
    .bind(caller.user_id)
    .bind(caller.team_path.as_str())
    .bind(caller.role.to_string())
    .execute(connection)
    .await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn event<M: DomainEvent>(message: &M) -> ReceivedEvent {
        ReceivedEvent {
            id: Uuid::now_v7(),
            event_type: M::full_name(),
            subject: M::subject(),
            aggregate_id: String::new(),
            aggregate_version: 1,
            payload: Bytes::from(message.encode_to_vec()),
            deliveries: 1,
        }
    }

    fn user(team_path: &str) -> gateway::User {
        gateway::User {
            id: Uuid::now_v7().to_string(),
            display_name: "Ravi".into(),
            role: gateway::Role::Rep as i32,
            team_path: team_path.into(),
            stage: LifecycleStage::New as i32,
            started_on: "2026-10-01".into(),
            active: true,
            version: 3,
            ..Default::default()
        }
    }

    #[test]
    fn a_move_decodes_with_the_team_left() {
        let change = OrgChange::decode(&event(&UserUpdated {
            user: Some(user("/northwind/west/")),
            changed_fields: vec!["team_id".into()],
            previous_team_path: "/northwind/east/".into(),
        }))
        .unwrap();
        assert_eq!(change.user().team_path.as_str(), "/northwind/west/");
        assert_eq!(change.user().role, Role::Rep);
        assert_eq!(change.user().version, 3);
        assert_eq!(change.moved_from().unwrap().as_str(), "/northwind/east/");
    }

    #[test]
    fn an_unknown_subject_is_permanent_not_guessed() {
        let mut unknown = event(&UserCreated {
            user: Some(user("/northwind/")),
        });
        unknown.subject = "crm.gateway.v1.team_created".into();
        assert!(matches!(
            OrgChange::decode(&unknown),
            Err(HandlerError::Permanent(_))
        ));
    }

    #[test]
    fn settings_decode_with_an_empty_code_as_none() {
        let settings = |code: &str| OrgSettingsUpdated {
            settings: Some(gateway::OrgSettings {
                default_calling_code: code.into(),
                version: 4,
                updated_at: None,
                corporate_currency: String::new(),
                ..Default::default()
            }),
            changed_fields: vec!["default_calling_code".into()],
        };
        assert_eq!(
            OrgSettings::decode(&event(&settings("86"))).unwrap(),
            OrgSettings {
                default_calling_code: Some("86".into()),
                corporate_currency: None,
                fiscal_calendar: FiscalCalendar::default(),
                version: 4
            }
        );
        assert_eq!(
            OrgSettings::decode(&event(&settings(""))).unwrap(),
            OrgSettings {
                default_calling_code: None,
                corporate_currency: None,
                fiscal_calendar: FiscalCalendar::default(),
                version: 4
            }
        );
        let july = OrgSettingsUpdated {
            settings: Some(gateway::OrgSettings {
                fiscal_year_start_month: 7,
                fiscal_year_naming: gateway::FiscalYearNaming::EndingYear as i32,
                version: 5,
                ..Default::default()
            }),
            changed_fields: vec!["fiscal_year_start_month".into()],
        };
        assert_eq!(
            OrgSettings::decode(&event(&july)).unwrap().fiscal_calendar,
            FiscalCalendar::new(7, FiscalYearNaming::EndingYear).unwrap()
        );
        let empty = OrgSettingsUpdated {
            settings: None,
            changed_fields: vec![],
        };
        assert!(matches!(
            OrgSettings::decode(&event(&empty)),
            Err(HandlerError::Permanent(_))
        ));
        assert!(
            consumer_spec("leads")
                .subjects
                .contains(&OrgSettingsUpdated::subject())
        );
    }

    #[test]
    fn the_retired_calling_code_setting_is_refused_naming_the_organisation_setting() {
        let settings = |pairs: &[(&str, &str)]| {
            let values = pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect();
            crate::config::Settings::from_values(&values).unwrap()
        };
        let unset = settings(&[]);
        assert!(refuse_retired_calling_code_setting(&unset.service("leads")).is_ok());
        let set = settings(&[("CRM_LEADS_DEFAULT_CALLING_CODE", "86")]);
        assert!(refuse_retired_calling_code_setting(&set.service("accounts")).is_ok());
        let refused = refuse_retired_calling_code_setting(&set.service("leads"))
            .unwrap_err()
            .to_string();
        assert!(
            refused.starts_with("CRM_LEADS_DEFAULT_CALLING_CODE is no longer read"),
            "{refused}"
        );
        assert!(refused.contains("UpdateOrgSettings"), "{refused}");
    }

    #[test]
    fn bad_users_are_permanent() {
        let mut bad = user("not a path");
        assert!(matches!(
            OrgChange::decode(&event(&UserCreated {
                user: Some(bad.clone())
            })),
            Err(HandlerError::Permanent(_))
        ));
        bad = user("/northwind/");
        bad.role = 0;
        assert!(OrgChange::decode(&event(&UserCreated { user: Some(bad) })).is_err());
        assert!(OrgChange::decode(&event(&UserCreated { user: None })).is_err());
    }
}
