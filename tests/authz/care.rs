//! Customer care's rows of the matrix (CareService, docs/api.md): everyone reads the care
//! settings and templates, admins alone change them (PERMISSION_DENIED); a template is
//! rendered for, and a care reminder listed to, whoever may see the contact's owner's records
//! (out of reach the contact does not exist: NOT_FOUND, and its reminder is not listed). Run by
//! `opportunities::run_actions` over the same organisation, transports and report.

use std::time::Duration;

use chrono::NaiveDate;
use crm_proto::crm::{
    accounts::v1::{self as accounts_pb, account_service_client::AccountServiceClient},
    opportunities::v1::{self as pb, care_service_client::CareServiceClient},
};
use crm_test_support::{authorized, eventually};
use tonic::transport::Channel;
use uuid::Uuid;

use super::super::{
    DENIED, Expect, Http, Kind, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids,
};
use super::{query, run_table};

/// One care call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    GetSettings,
    UpdateSettings(pb::UpdateCareSettingsRequest),
    CreateTemplate(pb::CreateCareTemplateRequest),
    UpdateTemplate(pb::UpdateCareTemplateRequest),
    ArchiveTemplate(pb::ArchiveCareTemplateRequest),
    /// Answers the template ids listed.
    ListTemplates,
    Render(pb::RenderCareTemplateRequest),
    /// Answers the reminder ids listed.
    Reminders(pb::ListCareRemindersRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    GetSettings,
    /// The settings as they are (7 days before each kind).
    UpdateSettings,
    /// Of a template the admin made for the cell.
    CreateTemplate,
    UpdateTemplate,
    ArchiveTemplate,
    ListTemplates,
    /// For the contact of the person named (`org.records`).
    Render(Who),
    /// The reminder of a fresh contact of the person named, with a birthday soon.
    Reminders(Who),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                       admin  manager    rep
    (Action::GetSettings,           OK,    OK,        OK),
    (Action::UpdateSettings,        OK,    DENIED,    DENIED),
    (Action::CreateTemplate,        OK,    DENIED,    DENIED),
    (Action::UpdateTemplate,        OK,    DENIED,    DENIED),
    (Action::ArchiveTemplate,       OK,    DENIED,    DENIED),
    (Action::ListTemplates,         OK,    OK,        OK),
    (Action::Render(Who::Ravi),     OK,    OK,        OK),
    (Action::Render(Who::Nora),     OK,    OK,        NOT_FOUND),
    (Action::Render(Who::Wes),      OK,    NOT_FOUND, NOT_FOUND),
    (Action::Reminders(Who::Ravi),  OK,    OK,        OK),
    (Action::Reminders(Who::Nora),  OK,    OK,        NOT_FOUND),
    (Action::Reminders(Who::Wes),   OK,    NOT_FOUND, NOT_FOUND),
];

/// The care job's day, the birthday it finds within the default 7 days before, and the
/// listing's window holding it.
const JOB_DAY: &str = "2027-01-15";
const BIRTHDAY: &str = "--01-20";
const WINDOW_DAYS: u32 = 30;

fn care(org: &Org) -> CareServiceClient<Channel> {
    CareServiceClient::new(org.channel.clone())
}

fn template_input() -> Option<pb::CareTemplateInput> {
    Some(pb::CareTemplateInput {
        name: format!("Birthday card {}", Uuid::now_v7().simple()),
        kind: pb::CareTemplateKind::Any.into(),
        channel: pb::CareChannel::Letter.into(),
        subject: "For {contact_name}".into(),
        body: "Dear {contact_name}, all the best from {owner_name}.".into(),
    })
}

/// A fresh template the admin made.
async fn template(org: &Org) -> String {
    let create = pb::CreateCareTemplateRequest {
        template: template_input(),
    };
    let created = care(org)
        .create_care_template(authorized(create, org.token(Who::Ada)))
        .await;
    created.unwrap().into_inner().template.unwrap().id
}

fn reminders_from_job_day() -> pb::ListCareRemindersRequest {
    pb::ListCareRemindersRequest {
        from: JOB_DAY.into(),
        days: WINDOW_DAYS,
    }
}

/// The care reminder of a fresh contact of `owner` with a birthday soon after the job's day:
/// the contact reaches this service by the accounts service's events, and the care job
/// (run on demand at the job's day) writes its reminder once it does.
async fn reminder_of(org: &Org, owner: Who) -> String {
    let create = accounts_pb::CreateContactRequest {
        contact: Some(accounts_pb::ContactInput {
            account_id: org.records[&(Kind::Account, owner)].clone(),
            full_name: format!(
                "{owner:?} Birthday {}",
                &Uuid::now_v7().simple().to_string()[20..]
            ),
            important_dates: vec![accounts_pb::ImportantDate {
                kind: accounts_pb::ImportantDateKind::Birthday.into(),
                date: BIRTHDAY.into(),
                label: String::new(),
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = AccountServiceClient::new(org.channel.clone())
        .create_contact(authorized(create, org.token(owner)))
        .await;
    let contact_id = created.unwrap().into_inner().contact.unwrap().id;
    let context = org.app.services.context("opportunities").unwrap();
    let day = NaiveDate::parse_from_str(JOB_DAY, "%Y-%m-%d").unwrap();
    let day = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let reminder = || async {
        let listed = care(org)
            .list_care_reminders(authorized(reminders_from_job_day(), org.token(Who::Ada)))
            .await
            .unwrap()
            .into_inner()
            .reminders;
        let reminder = listed.into_iter().find(|r| r.contact_id == contact_id);
        reminder.map(|reminder| reminder.id)
    };
    let what = format!("{owner:?}'s contact's care reminder");
    eventually(Duration::from_secs(20), &what, || async {
        crm_opportunities::run_job(context, crm_opportunities::CARE_REMINDERS, day)
            .await
            .unwrap();
        reminder().await.is_some()
    })
    .await;
    reminder().await.unwrap()
}

/// The call an action makes, with a target made for this cell, and for a listing the id it
/// shows exactly when the cell is readable.
async fn prepare(org: &Org, action: Action) -> (Call, Option<String>) {
    let call = match action {
        Action::GetSettings => Call::GetSettings,
        Action::UpdateSettings => Call::UpdateSettings(pb::UpdateCareSettingsRequest {
            birthday_days_before: 7,
            anniversary_days_before: 7,
            expected_version: 0,
        }),
        Action::CreateTemplate => Call::CreateTemplate(pb::CreateCareTemplateRequest {
            template: template_input(),
        }),
        Action::UpdateTemplate => Call::UpdateTemplate(pb::UpdateCareTemplateRequest {
            template_id: template(org).await,
            template: template_input(),
            expected_version: 0,
        }),
        Action::ArchiveTemplate => Call::ArchiveTemplate(pb::ArchiveCareTemplateRequest {
            template_id: template(org).await,
            expected_version: 0,
        }),
        Action::ListTemplates => return (Call::ListTemplates, Some(template(org).await)),
        Action::Render(owner) => Call::Render(pb::RenderCareTemplateRequest {
            template_id: template(org).await,
            contact_id: org.records[&(Kind::Contact, owner)].clone(),
            occurs_on: String::new(),
        }),
        Action::Reminders(owner) => {
            let id = reminder_of(org, owner).await;
            return (Call::Reminders(reminders_from_job_day()), Some(id));
        }
    };
    (call, None)
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, listed) = prepare(org, action).await;
        (super::Call::Care(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &CareServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut client = client.clone();
    let answered = match call {
        Call::GetSettings => client
            .get_care_settings(authorized(pb::GetCareSettingsRequest {}, token))
            .await
            .map(no_ids),
        Call::UpdateSettings(r) => client
            .update_care_settings(authorized(r, token))
            .await
            .map(no_ids),
        Call::CreateTemplate(r) => client
            .create_care_template(authorized(r, token))
            .await
            .map(no_ids),
        Call::UpdateTemplate(r) => client
            .update_care_template(authorized(r, token))
            .await
            .map(no_ids),
        Call::ArchiveTemplate(r) => client
            .archive_care_template(authorized(r, token))
            .await
            .map(no_ids),
        Call::ListTemplates => client
            .list_care_templates(authorized(pb::ListCareTemplatesRequest::default(), token))
            .await
            .map(|listed| {
                let listed = listed.into_inner().templates;
                listed.into_iter().map(|template| template.id).collect()
            }),
        Call::Render(r) => client
            .render_care_template(authorized(r, token))
            .await
            .map(no_ids),
        Call::Reminders(r) => {
            client
                .list_care_reminders(authorized(r, token))
                .await
                .map(|listed| {
                    let listed = listed.into_inner().reminders;
                    listed.into_iter().map(|reminder| reminder.id).collect()
                })
        }
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let template = |id: &str, verb: &str| format!("/v1/careTemplates/{id}{verb}");
    let (method, path, body) = match call {
        Call::GetSettings => (Method::GET, "/v1/careSettings".to_owned(), None),
        Call::UpdateSettings(r) => (
            Method::PATCH,
            "/v1/careSettings".to_owned(),
            Some(door.json(&r)),
        ),
        Call::CreateTemplate(r) => (
            Method::POST,
            "/v1/careTemplates".to_owned(),
            Some(door.json(&r)),
        ),
        Call::UpdateTemplate(r) => (
            Method::PATCH,
            template(&r.template_id, ""),
            Some(door.json(&r)),
        ),
        Call::ArchiveTemplate(r) => (
            Method::POST,
            template(&r.template_id, ":archive"),
            Some(door.json(&r)),
        ),
        Call::ListTemplates => return door.list("/v1/careTemplates", token, "templates").await,
        Call::Render(r) => (
            Method::POST,
            template(&r.template_id, ":render"),
            Some(door.json(&r)),
        ),
        Call::Reminders(r) => {
            let days = r.days.to_string();
            let path = format!(
                "/v1/careReminders{}",
                query(&[("from", r.from.as_str()), ("days", days.as_str())])
            );
            return door.list(&path, token, "reminders").await;
        }
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
