//! Customer care (`CareService`, A6): Li Wei's birthday and Contoso's contract anniversary kept
//! from the accounts service's contact events, reminders written once per occurrence whatever
//! runs the job, February 29th, templates with placeholders (admins write, everyone reads),
//! rendered for a contact, and who sees which reminders — over a real tonic client against
//! real PostgreSQL and NATS.

mod support;

use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate, Utc};
use crm_platform::auth::Caller;
use crm_proto::crm::{
    accounts::v1 as accounts,
    opportunities::v1::{self as pb, care_service_client::CareServiceClient},
};
use crm_test_support::user;
use support::*;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;

struct Care {
    harness: Harness,
    care: CareServiceClient<Channel>,
    ravi: Caller,
    account_id: String,
}

/// The start of `day` (UTC): the care job's day.
fn midnight(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn month_day(day: NaiveDate) -> String {
    format!("--{:02}-{:02}", day.month(), day.day())
}

impl Care {
    async fn open() -> Self {
        let harness = Harness::start().await;
        let care = CareServiceClient::new(harness.app.channel().await);
        let ravi = user("rep", EAST_1);
        let account_id = harness.publish_account(&ravi).await;
        Self {
            harness,
            care,
            ravi,
            account_id,
        }
    }

    /// A contact of Contoso owned by Ravi, as the accounts service publishes it, once known
    /// here at `version`.
    async fn publish_contact(
        &self,
        id: &str,
        name: &str,
        dates: &[(accounts::ImportantDateKind, String)],
        status: accounts::ContactStatus,
        version: u64,
    ) {
        let contact = accounts::Contact {
            id: id.into(),
            account_id: self.account_id.clone(),
            full_name: name.into(),
            important_dates: dates
                .iter()
                .map(|(kind, date)| accounts::ImportantDate {
                    kind: (*kind).into(),
                    date: date.clone(),
                    label: String::new(),
                })
                .collect(),
            owner_id: self.ravi.user_id.to_string(),
            owner_team_path: self.ravi.team_path.to_string(),
            status: status.into(),
            version,
            ..Default::default()
        };
        self.harness.publish_contact(contact).await;
    }

    async fn run(&self, today: NaiveDate) -> u64 {
        let context = self.harness.app.services.context("opportunities").unwrap();
        crm_opportunities::run_job(context, crm_opportunities::CARE_REMINDERS, midnight(today))
            .await
            .unwrap()
    }

    async fn template(
        &self,
        caller: &Caller,
        name: &str,
        kind: pb::CareTemplateKind,
        channel: pb::CareChannel,
        body: &str,
    ) -> Result<pb::CareTemplate, tonic::Status> {
        let request = pb::CreateCareTemplateRequest {
            template: Some(pb::CareTemplateInput {
                name: name.into(),
                kind: kind.into(),
                channel: channel.into(),
                subject: "For {contact_name}".into(),
                body: body.into(),
            }),
        };
        let request = self.harness.request(caller, request);
        let response = self.care.clone().create_care_template(request).await?;
        Ok(response.into_inner().template.unwrap())
    }

    /// (contact name, kind, occurs_on, years) of the reminders `caller` sees from `from`.
    async fn reminders(
        &self,
        caller: &Caller,
        from: NaiveDate,
    ) -> Vec<(String, pb::CareDateKind, String, u32)> {
        let request = pb::ListCareRemindersRequest {
            from: from.to_string(),
            days: 366,
        };
        let request = self.harness.request(caller, request);
        let response = self
            .care
            .clone()
            .list_care_reminders(request)
            .await
            .unwrap();
        response
            .into_inner()
            .reminders
            .into_iter()
            .map(|r| {
                (
                    r.contact_name.clone(),
                    r.kind(),
                    r.occurs_on.clone(),
                    r.years,
                )
            })
            .collect()
    }
}

const DUE: &str = "crm.opportunities.v1.CareReminderDue";

/// Li Wei's birthday in five days (no year) and Contoso's contract signed on a day three weeks
/// on in 2019: with the default 7 days before, the birthday is reminded today — once, though
/// two jobs run at once — and the anniversary (its eighth, or so) two weeks on; Ravi and his
/// manager see both, another team's rep neither.
#[tokio::test]
async fn reminders_come_once_per_occurrence_the_days_before() {
    let care = Care::open().await;
    let today = Utc::now().date_naive();
    let birthday = today + Days::new(5);
    let signed_day = today + Days::new(21);
    let signed =
        NaiveDate::from_ymd_opt(2019, signed_day.month(), signed_day.day().min(28)).unwrap();
    let signed_next =
        NaiveDate::from_ymd_opt(signed_day.year(), signed.month(), signed.day()).unwrap();
    let li_wei = Uuid::now_v7().to_string();
    care.publish_contact(
        &li_wei,
        "Li Wei",
        &[
            (accounts::ImportantDateKind::Birthday, month_day(birthday)),
            (
                accounts::ImportantDateKind::ContractAnniversary,
                signed.to_string(),
            ),
            (accounts::ImportantDateKind::Other, "2020-01-01".into()),
        ],
        accounts::ContactStatus::Active,
        1,
    )
    .await;
    let admin = care.harness.admin.clone();
    let message = care
        .template(
            &admin,
            "Birthday message",
            pb::CareTemplateKind::Birthday,
            pb::CareChannel::Message,
            "Happy birthday, {contact_name}! — {owner_name}",
        )
        .await
        .unwrap();

    let (first, second) = tokio::join!(care.run(today), care.run(today));
    assert_eq!(first + second, 1);
    assert_eq!(care.run(today).await, 0);
    assert_eq!(care.harness.event_count(DUE).await, 1);
    let ravi = care.ravi.clone();
    // The reminder is a task on Ravi's calendar, due on the reminder's day (7 days before the
    // birthday: two days ago, so the job caught up) at 09:00 UTC,
    // regarding Li Wei: the task reminders remind him of it like any task.
    let (owner, contact, due_on): (Uuid, Uuid, NaiveDate) = sqlx::query_as(
        "SELECT owner_id, contact_id, (due_at AT TIME ZONE 'UTC')::date FROM tasks \
         WHERE title LIKE 'Li Wei''s birthday on %' AND remind_at = due_at \
         AND (due_at AT TIME ZONE 'UTC')::time = '09:00'",
    )
    .fetch_one(care.harness.app.pool("opportunities"))
    .await
    .unwrap();
    assert_eq!(
        (owner, contact.to_string(), due_on),
        (ravi.user_id, li_wei.clone(), birthday - Days::new(7))
    );
    let seen = care.reminders(&ravi, today).await;
    assert_eq!(
        seen,
        [(
            "Li Wei".to_string(),
            pb::CareDateKind::Birthday,
            birthday.to_string(),
            0
        )]
    );
    let request = care
        .harness
        .request(&ravi, pb::ListCareRemindersRequest::default());
    let listed = care
        .care
        .clone()
        .list_care_reminders(request)
        .await
        .unwrap();
    let reminder = listed.into_inner().reminders.remove(0);
    assert_eq!(reminder.suggested_template_id, message.id);
    assert_eq!(reminder.owner_id, ravi.user_id.to_string());
    assert_eq!(
        reminder.due_on,
        (birthday - Days::new(7))
            .max(birthday - Days::new(7))
            .to_string()
    );

    // Two weeks on, the anniversary is a week away: reminded, with its years.
    let later = today + Days::new(14);
    assert_eq!(care.run(later).await, 1);
    let years = u32::try_from(signed_next.year() - 2019).unwrap();
    let seen = care.reminders(&ravi, today).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[1],
        (
            "Li Wei".to_string(),
            pb::CareDateKind::ContractAnniversary,
            signed_next.to_string(),
            years
        )
    );
    assert_eq!(care.reminders(&user("manager", EAST), today).await.len(), 2);
    assert!(
        care.reminders(&user("rep", "/northwind/west/"), today)
            .await
            .is_empty()
    );
    assert_eq!(care.harness.event_count(DUE).await, 2);
}

/// A birthday on February 29th is reminded before the 28th in a year without it; an archived
/// contact gets no reminder; an older event does not bring back dates a newer one removed.
#[tokio::test]
async fn february_29th_archived_contacts_and_older_events() {
    let care = Care::open().await;
    let leap = Uuid::now_v7().to_string();
    care.publish_contact(
        &leap,
        "Zhang Min",
        &[(accounts::ImportantDateKind::Birthday, "--02-29".into())],
        accounts::ContactStatus::Active,
        1,
    )
    .await;
    let gone = Uuid::now_v7().to_string();
    care.publish_contact(
        &gone,
        "Old Contact",
        &[(accounts::ImportantDateKind::Birthday, "--02-27".into())],
        accounts::ContactStatus::Archived,
        1,
    )
    .await;
    let day = |text: &str| text.parse::<NaiveDate>().unwrap();
    assert_eq!(care.run(day("2027-02-20")).await, 0);
    assert_eq!(care.run(day("2027-02-21")).await, 1);
    let ravi = care.ravi.clone();
    let seen = care.reminders(&ravi, day("2027-01-01")).await;
    assert_eq!(
        seen,
        [(
            "Zhang Min".to_string(),
            pb::CareDateKind::Birthday,
            "2027-02-28".to_string(),
            0
        )]
    );
    // In 2028 it is the 29th again.
    assert_eq!(care.run(day("2028-02-22")).await, 1);
    assert_eq!(
        care.reminders(&ravi, day("2028-01-01")).await[0].2,
        "2028-02-29"
    );

    // Version 3 removes the birthday; version 2 arriving after it changes nothing.
    care.publish_contact(&leap, "Zhang Min", &[], accounts::ContactStatus::Active, 3)
        .await;
    care.publish_contact(
        &leap,
        "Zhang Min",
        &[(accounts::ImportantDateKind::Birthday, "--03-01".into())],
        accounts::ContactStatus::Active,
        2,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dates: serde_json::Value =
        sqlx::query_scalar("SELECT important_dates FROM contact_replicas WHERE id = $1::uuid")
            .bind(&leap)
            .fetch_one(care.harness.app.pool("opportunities"))
            .await
            .unwrap();
    assert_eq!(dates, serde_json::json!([]));
}

/// Admins write templates, everyone reads them; an unknown placeholder is refused, named; a
/// template renders for a contact its reader may see, plain text, and for nobody else.
#[tokio::test]
async fn templates_render_for_a_visible_contact_and_refuse_unknown_placeholders() {
    let care = Care::open().await;
    let admin = care.harness.admin.clone();
    let ravi = care.ravi.clone();
    let li_wei = Uuid::now_v7().to_string();
    care.publish_contact(
        &li_wei,
        "Li Wei",
        &[(
            accounts::ImportantDateKind::ContractAnniversary,
            "2019-06-30".into(),
        )],
        accounts::ContactStatus::Active,
        1,
    )
    .await;
    let refused = care
        .template(
            &admin,
            "Anniversary letter",
            pb::CareTemplateKind::ContractAnniversary,
            pb::CareChannel::Letter,
            "Dear {contact_name}, {yaers} years <with> {account_name}. {x}",
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(fields(&refused), ["template.body"]);
    let details = refused.get_error_details();
    let description = &details.bad_request().unwrap().field_violations[0].description;
    assert!(description.contains("{x}, {yaers}"), "{description}");
    let by_rep = care
        .template(
            &ravi,
            "Mine",
            pb::CareTemplateKind::Any,
            pb::CareChannel::Message,
            "Hi",
        )
        .await
        .unwrap_err();
    assert_eq!(by_rep.code(), Code::PermissionDenied);
    let letter = care
        .template(
            &admin,
            "Anniversary letter",
            pb::CareTemplateKind::ContractAnniversary,
            pb::CareChannel::Letter,
            "Dear {contact_name}, {years} years <with> {account_name} on {date}.",
        )
        .await
        .unwrap();
    let request = care
        .harness
        .request(&ravi, pb::ListCareTemplatesRequest::default());
    let listed = care
        .care
        .clone()
        .list_care_templates(request)
        .await
        .unwrap();
    assert_eq!(listed.into_inner().templates, std::slice::from_ref(&letter));

    let render = |caller: &Caller| {
        let request = pb::RenderCareTemplateRequest {
            template_id: letter.id.clone(),
            contact_id: li_wei.clone(),
            occurs_on: "2027-06-30".into(),
        };
        care.harness.request(caller, request)
    };
    let rendered = care
        .care
        .clone()
        .render_care_template(render(&ravi))
        .await
        .unwrap();
    let rendered = rendered.into_inner();
    assert_eq!(rendered.subject, "For Li Wei");
    assert_eq!(
        rendered.body,
        "Dear Li Wei, 8 years <with> Contoso on 2027-06-30."
    );
    let west = user("rep", "/northwind/west/");
    let hidden = care
        .care
        .clone()
        .render_care_template(render(&west))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);

    let archive = pb::ArchiveCareTemplateRequest {
        template_id: letter.id.clone(),
        expected_version: 1,
    };
    let request = care.harness.request(&admin, archive);
    let archived = care
        .care
        .clone()
        .archive_care_template(request)
        .await
        .unwrap();
    assert_eq!(archived.into_inner().template.unwrap().version, 2);
    let request = care
        .harness
        .request(&ravi, pb::ListCareTemplatesRequest::default());
    let listed = care
        .care
        .clone()
        .list_care_templates(request)
        .await
        .unwrap();
    assert!(listed.into_inner().templates.is_empty());
}
